"""The Train page's knobs: which network, the source projects' hyperparameters, the training data, and the limits
a server enforces on them.

A network is a row of NETWORKS: its kind's config dataclass with the page's defaults, and the knobs it takes.
`to_config` turns the knobs' values into that config, so a run trains through its kind's own trainer, as
train.py does. Every value is checked here, on the server, whatever the page sent: SettingsError names the
knob and its limit. This module imports nothing heavy.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mnist_app.data import pendigits
from mnist_app.models.keras_config import KerasConfig
from mnist_app.models.numpy_config import NumpyMLPConfig

MNIST_TRAIN = 60_000
MIN_DIGITS = 1_000
MAX_EPOCHS = 50
MAX_LAYERS, MAX_WIDTH = 4, 2048
MAX_PARAMETERS = 3_000_000  # about 12 MB of float32 weights: the largest source MLP has 0.57 M
MAX_MINUTES = 15.0  # default wall-clock limit of one run; MNIST_APP_TRAIN_MINUTES changes it
MAX_MEMORY_MB = 4096  # default memory limit of a training worker; MNIST_APP_TRAIN_MEMORY_MB changes it
PEN_VARIANTS = 2  # drawings of each pen digit of writers 1-20, when the run asks for them
CNN_PARAMETERS = 9 * 32 + 9 * 32 * 32 + 9 * 32 * 64 + 9 * 64 * 64 + 7 * 7 * 64 * 128 + 128 * 10  # about 0.47 M


class SettingsError(ValueError):
    """A knob's value is out of its limits or unusable; the message names the knob and the limit."""


@dataclass(frozen=True)
class Network:
    """A network the page offers: its label, its kind's config with the page's defaults, and its knobs."""

    label: str
    base: Any  # NumpyMLPConfig or KerasConfig
    knobs: tuple[str, ...]
    about: str


COMMON = ("optimizer", "learning_rate", "batch_size", "epochs", "early_stopping", "val_fraction")
NETWORKS: dict[str, Network] = {
    # the defaults reach >= 97% MNIST test accuracy in seconds on 2 cores (benchmarks/train_page.py)
    "numpy": Network(
        "NumPy MLP, written from scratch",
        NumpyMLPConfig(hidden=128, optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=6, init="he"),
        ("hidden", "init", *COMMON),
        "784 inputs, one hidden ReLU layer, ten softmax outputs; hand-written backprop (mnist_app/models/numpy_net.py)",
    ),
    "keras-mlp": Network(
        "Keras MLP",
        KerasConfig(hidden=(512, 256, 128), optimizer="rmsprop", epochs=15, val_fraction=0.1, dropout=0.2),
        ("hidden", "activation", "loss", *COMMON, "dropout", "batch_norm"),
        "Dense layers of your widths; the first source project's 512-256-128 RMSprop, dropout 0.2, by default",
    ),
    "keras-cnn": Network(
        "Keras CNN",
        KerasConfig(architecture="cnn", optimizer="adam", epochs=2, val_fraction=0.1, batch_norm=True),
        (*COMMON, "dropout", "batch_norm"),
        "Two 3x3 convolutions of 32 filters, pooling, two of 64, pooling, dense 128: slow on a CPU",
    ),
}


@dataclass(frozen=True)
class Knob:
    """One knob, declared once: the page draws its widget from this and the server's check accepts exactly what the
    widget offers (as argparse's add_argument serves both the parser and --help).

    `widget` is "text" (hidden layers), "choice" (`options`, shown through `names`), "switch", "steps" (a slider over
    the numbers in `options`) or "range" (a slider from `low` to `high` by `step`)."""

    label: str
    help: str
    widget: str
    options: tuple = ()
    names: Mapping[str, str] = field(default_factory=dict)
    low: float = 0
    high: float = 0
    step: float = 1

    def offered(self) -> tuple:
        """Every value the page's widget offers (a "text" or "switch" knob: none listed)."""
        if self.widget in ("choice", "steps"):
            return self.options
        if self.widget == "range":
            count = round((self.high - self.low) / self.step)
            return tuple(_on_grid(self.low + k * self.step, self.step) for k in range(count + 1))
        return ()


LOSS_LABELS = {"categorical_crossentropy": "softmax + cross-entropy", "binary_crossentropy": "sigmoid + binary CE"}
RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3)
BATCHES = (8, 16, 32, 64, 128, 256, 512, 1024)
KNOBS: dict[str, Knob] = {
    "hidden": Knob(
        "Hidden layers",
        f"Widths of the hidden layers, comma-separated, each 1 to {MAX_WIDTH} (the NumPy network has one).",
        "text",
    ),
    "activation": Knob(
        "Activation", "What each hidden unit applies to its sum.", "choice", ("relu", "sigmoid", "tanh")
    ),
    "loss": Knob(
        "Output and loss",
        "Softmax + cross-entropy picks one digit; sigmoid + binary cross-entropy scores each digit on its own, "
        "as the third source project did.",
        "choice",
        tuple(LOSS_LABELS),
        LOSS_LABELS,
    ),
    "optimizer": Knob(
        "Optimizer",
        "How each step follows the gradient: plain SGD, SGD with momentum 0.9, RMSprop or Adam.",
        "choice",
        ("sgd", "momentum", "rmsprop", "adam"),
    ),
    "learning_rate": Knob(
        "Learning rate", "The step size. Adam and RMSprop like 1e-3; SGD often wants 0.01-0.1.", "steps", RATES
    ),
    "batch_size": Knob("Batch size", "Digits per step: smaller is noisier and slower per epoch.", "steps", BATCHES),
    "epochs": Knob("Epochs", "Passes over the training digits.", "range", low=1, high=MAX_EPOCHS),
    "early_stopping": Knob(
        "Early stopping (patience)",
        "Stop after this many epochs without a lower validation loss and keep the best epoch; 0 is off.",
        "range",
        high=10,
    ),
    "dropout": Knob(
        "Dropout", "Share of hidden units silenced at random in each training step.", "range", high=0.7, step=0.05
    ),
    "batch_norm": Knob("BatchNorm", "Normalise each layer's inputs per batch.", "switch"),
    "init": Knob(
        "Weight initialisation",
        "The random weights training starts from: He's, scaled to each layer's inputs for ReLU, or N(0, 0.01), the "
        "NumPy source project's (its small start learns slower).",
        "choice",
        ("he", "small"),
        {"he": "He (scaled for ReLU)", "small": "N(0, 0.01), the source's"},
    ),
    "val_fraction": Knob(
        "Validation share",
        "Share of the MNIST training digits kept aside to measure each epoch (and to stop early): never trained on.",
        "range",
        low=0.05,
        high=0.3,
        step=0.05,
    ),
}


@dataclass(frozen=True)
class DataSettings:
    """What a run trains on: the first `digits` MNIST training digits (the validation share of them kept aside),
    optionally distorted afresh each epoch, optionally with the pen drawings of writers 1-20."""

    digits: int = MNIST_TRAIN
    augment: bool = False
    pen: bool = False


def max_minutes() -> float:
    """One run's wall-clock limit: MNIST_APP_TRAIN_MINUTES, else MAX_MINUTES."""
    return float(os.environ.get("MNIST_APP_TRAIN_MINUTES") or MAX_MINUTES)


def max_memory_mb() -> float:
    """The memory a worker may hold while it trains a run (its resident size, TensorFlow included):
    MNIST_APP_TRAIN_MEMORY_MB, else MAX_MEMORY_MB."""
    return float(os.environ.get("MNIST_APP_TRAIN_MEMORY_MB") or MAX_MEMORY_MB)


def defaults(network: str) -> dict[str, Any]:
    """The page's starting value of each of the network's knobs."""
    base = network_of(network).base
    return {knob: getattr(base, knob) for knob in network_of(network).knobs}


def network_of(name: str) -> Network:
    if name not in NETWORKS:
        raise SettingsError(f"unknown network {name!r}; the page offers {', '.join(NETWORKS)}")
    return NETWORKS[name]


def to_config(network: str, values: Mapping[str, Any], data: DataSettings, seed: int = 0, label: str = ""):
    """The kind's config for these knob values; SettingsError naming the knob and its limit when one is out."""
    chosen = network_of(network)
    unknown = set(values) - set(chosen.knobs)
    if unknown:
        raise SettingsError(f"{chosen.label} has no knob {', '.join(sorted(unknown))}")
    checked = {knob: check(knob, value, chosen.base) for knob, value in values.items()}
    check_data(data)
    extra = {"augment": data.augment, "seed": seed, "label": label}
    if data.pen:
        from mnist_app.data.pen_training import TRAINING_WRITERS

        extra |= {"pen_writers": TRAINING_WRITERS, "pen_variants": PEN_VARIANTS}
    known = {f.name for f in fields(chosen.base)}
    if "description" in known:
        extra["description"] = describe(network, checked)
    try:
        config = replace(chosen.base, **checked, **{k: v for k, v in extra.items() if k in known})
    except ValueError as exc:  # the config's own validation
        raise SettingsError(str(exc)) from None
    if (count := parameters(config)) > MAX_PARAMETERS:
        raise SettingsError(f"{count:,} parameters: the limit is {MAX_PARAMETERS:,}; use fewer or narrower layers")
    return config


def check(knob: str, value: Any, base: Any) -> Any:
    """One knob's value, checked against exactly what its widget offers and converted to the config's type."""
    spec = KNOBS[knob]
    if spec.widget == "text":
        return check_hidden(value, one_layer=isinstance(base.hidden, int))
    if spec.widget == "switch":
        return bool(value)
    if spec.widget == "choice":
        if value not in spec.options:
            raise SettingsError(f"{spec.label}: {value!r} is not one of {', '.join(spec.options)}")
        return value
    kind = type(getattr(base, knob))
    number = _number(spec, value, kind)
    if not any(math.isclose(number, offered, rel_tol=1e-9, abs_tol=1e-12) for offered in spec.offered()):
        raise SettingsError(f"{spec.label}: {value!r} is not offered; {_limits(spec)}")
    return number


def check_hidden(value: Any, one_layer: bool) -> int | tuple[int, ...]:
    """'512, 256' or a sequence of widths -> a tuple (an int for a one-layer network)."""
    parts = (
        value.replace(",", " ").split()
        if isinstance(value, str)
        else list(value if not isinstance(value, int) else [value])
    )
    try:
        widths = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        raise SettingsError(f"Hidden layers: {value!r} is not a list of whole numbers like 512, 256") from None
    most = 1 if one_layer else MAX_LAYERS
    if not 1 <= len(widths) <= most:
        raise SettingsError(f"Hidden layers: {len(widths)} layers; this network takes 1 to {most}")
    if any(not 1 <= w <= MAX_WIDTH for w in widths):
        raise SettingsError(f"Hidden layers: each width must be 1 to {MAX_WIDTH}, got {value!r}")
    return widths[0] if one_layer else widths


def check_data(data: DataSettings) -> None:
    if (
        isinstance(data.digits, bool)
        or not isinstance(data.digits, int)
        or not MIN_DIGITS <= data.digits <= MNIST_TRAIN
    ):
        raise SettingsError(f"MNIST digits: {data.digits!r}; the limit is {MIN_DIGITS:,} to {MNIST_TRAIN:,}")
    if data.pen and not (path := pendigits.default_path()).is_file():
        raise SettingsError(f"Pen drawings need UCI's pen digits: {path} is not there; set PENDIGITS to the file")


def _number(spec: Knob, value: Any, kind: type):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{spec.label}: {value!r} is not a number") from None
    if isinstance(value, bool) or number != number:  # number != number: NaN
        raise SettingsError(f"{spec.label}: {value!r} is not a number")
    return number


def _limits(spec: Knob) -> str:
    """What a number knob offers, in words."""
    if spec.widget == "steps":
        return "one of " + ", ".join(f"{v:g}" for v in spec.options)
    return f"{spec.low:g} to {spec.high:g} in steps of {spec.step:g}"


def _on_grid(value: float, step: float) -> float:
    """A range's step, without float noise (0.15000000000000002 -> 0.15); a whole number stays an int."""
    return round(value, 6) if isinstance(step, float) else int(value)


def parameters(config) -> int:
    """How many weights and biases the network has (BatchNorm's four per unit counted)."""
    if getattr(config, "architecture", "mlp") == "cnn":
        return CNN_PARAMETERS
    widths = (784, *((config.hidden,) if isinstance(config.hidden, int) else config.hidden), 10)
    norm = 4 * sum(widths[1:-1]) if getattr(config, "batch_norm", False) else 0
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=True)) + norm


def describe(network: str, values: Mapping[str, Any]) -> str:
    """A run's recipe in one line, for its report and the run list."""
    parts = [NETWORKS[network].label]
    if "hidden" in values:
        hidden = values["hidden"]
        parts.append("784-" + "-".join(str(w) for w in ((hidden,) if isinstance(hidden, int) else hidden)) + "-10")
    parts += [values.get("activation", ""), LOSS_LABELS.get(values.get("loss", ""), "")]
    parts.append(f"{values.get('optimizer', '')} {values.get('learning_rate', 0):g}")
    parts.append(f"batch {values.get('batch_size')}, {values.get('epochs')} epochs")
    if values.get("dropout"):
        parts.append(f"dropout {values['dropout']:g}")
    if values.get("batch_norm"):
        parts.append("BatchNorm")
    if values.get("early_stopping"):
        parts.append(f"early stopping {values['early_stopping']}")
    if values.get("init") == "small":
        parts.append("N(0, 0.01) init")
    return ", ".join(p for p in parts if p)

"""Train mnist-app's models and write their weights and reports under models/.

python train.py all                     # the shipped models: numpy-mlp, keras-mlp, keras-cnn, ensemble
python train.py numpy --epochs 5        # one model, fewer epochs
python train.py compare                 # the source projects' Keras comparisons (reports only)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from mnist_app import calibration, ensemble, numpy_net, pen_training
from mnist_app.artifacts import write_json
from mnist_app.augment import AugmentConfig, EpochAugmenter
from mnist_app.data import Mnist, MnistDataError, load_mnist, split_validation, to_float
from mnist_app.models import MODELS_DIR, SHIPPED, load, model_dir, weights_path
from mnist_app.reports import (
    HISTORY_KEYS,
    ReportMissingError,
    build_report,
    misclassified,
    read_report,
    write_reports,
)

# keras_models.PRESETS' names, written out so that --help does not wait for TensorFlow (a test keeps them equal)
KERAS_NAMES = (
    "keras-mlp",
    "keras-mlp-mnist",
    "keras-cnn-mnist",
    "keras-cnn",
    "keras-mlp-rmsprop",
    "keras-mlp-sigmoid",
    "keras-mlp-adam",
    "keras-mlp-sgd",
    "keras-mlp-dropout",
    "keras-mlp-batchnorm",
)
COMPARISONS = ("numpy-mlp-source", "numpy-mlp-mnist", "keras-mlp-mnist", "keras-cnn-mnist") + KERAS_NAMES[4:]
# each shipped model starts from its MNIST-only comparison's weights, and the ensemble averages trained models:
# order matters
ALIASES = {
    "numpy": ("numpy-mlp",),
    "all": (
        "numpy-mlp-mnist",
        "numpy-mlp",
        "keras-mlp-mnist",
        "keras-mlp",
        "keras-cnn-mnist",
        "keras-cnn",
        "ensemble",
    ),
    "compare": COMPARISONS,
}
CALIBRATION_VARIANTS, CALIBRATION_SEED = 3, 1  # drawings per digit of the calibration writers; not training's seed
# how often a reading the app calls sure should be right, on the calibration writers (issue 12 asks >= 98% of
# every model, >= 99.5% of the best): with a margin, chosen on writers 16-20 (README, Results)
SURE_TARGETS = {"ensemble": 0.995}
SURE_TARGET = 0.99
CHOICES = tuple(numpy_net.PRESETS) + KERAS_NAMES + tuple(ensemble.PRESETS) + tuple(ALIASES)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "models", nargs="+", choices=CHOICES, metavar="MODEL", help=f"what to train: {', '.join(CHOICES)}"
    )
    parser.add_argument("--epochs", type=int, help="override the preset's number of epochs")
    parser.add_argument("--batch-size", type=int, help="override the preset's batch size")
    parser.add_argument("--lr", type=float, help="override the preset's learning rate")
    parser.add_argument("--hidden", type=int, help="NumPy network: hidden units")
    parser.add_argument("--optimizer", choices=("sgd", "momentum", "adam", "rmsprop"), help="override the optimizer")
    parser.add_argument("--no-augment", action="store_true", help="train on the MNIST digits as they are")
    parser.add_argument(
        "--restyle", type=float, metavar="P", help="share of 1s, 7s and 9s redrawn in other writing styles (0..1)"
    )
    parser.add_argument("--train-limit", type=int, help="use only the first N training digits (quick runs)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0): same seed, same model")
    parser.add_argument("--data", help="MNIST folder or mnist.npz (default: $MNIST_DATA, then Keras' cache/download)")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help=f"output folder (default {MODELS_DIR})")
    parser.add_argument(
        "--calibrate-only", action="store_true", help="refit the trained models' calibration, without training"
    )
    return parser.parse_args(argv)


def expand(names: list[str]) -> list[str]:
    """Model names with aliases expanded, in order, without repeats."""
    return list(dict.fromkeys(n for name in names for n in ALIASES.get(name, (name,))))


def overrides(args: argparse.Namespace) -> dict:
    """The command line's hyperparameter overrides, for any model kind."""
    values = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "optimizer": args.optimizer,
        "seed": args.seed,
        "augment": False if args.no_augment else None,
        "restyle": args.restyle,
    }
    return {k: v for k, v in values.items() if v is not None}


@contextmanager
def augmenter(x_train: np.ndarray, y_train: np.ndarray, config) -> Iterator[EpochAugmenter | None]:
    """Each epoch's distorted training digits when the config asks for augmentation, else None."""
    if not config.augment:
        yield None
        return
    epoch_images = EpochAugmenter(x_train, config.seed, AugmentConfig(restyle=config.restyle), labels=y_train)
    try:
        yield epoch_images
    finally:
        epoch_images.close()


def train_numpy(name: str, args: argparse.Namespace, split: tuple) -> tuple:
    config = replace(numpy_net.PRESETS[name], **overrides(args), **({"hidden": args.hidden} if args.hidden else {}))
    x_train, y_train, x_val, y_val = split
    print(f"== {name}: {config}")
    initial = None
    if config.start_from:
        path = weights_path(config.start_from, args.out)
        if not path.is_file():
            raise SystemExit(f"train.py: {name} starts from {config.start_from}: train it first (no {path})")
        initial = numpy_net.NumpyMLP.load(path).params
    with augmenter(x_train, y_train, config) as epoch_images:
        model, history = numpy_net.train(config, x_train, y_train, x_val, y_val, epoch_images, initial=initial)
    directory = model_dir(name, args.out)
    model.save(directory / "model.npz")
    return model.predict_proba, history, asdict(config), directory


def train_keras(name: str, args: argparse.Namespace, split: tuple) -> tuple:
    from mnist_app import keras_models  # TensorFlow loads only when a Keras model is asked for

    config = replace(keras_models.PRESETS[name], **overrides(args))
    print(f"== {name}: {config}")
    # a progress bar in a terminal, one line per epoch in a log
    verbose = 1 if sys.stdout.isatty() else 2
    initial = None
    if config.start_from:
        initial = weights_path(config.start_from, args.out)
        if not initial.is_file():
            raise SystemExit(f"train.py: {name} starts from {config.start_from}: train it first (no {initial})")
    with tempfile.TemporaryDirectory() as scratch, augmenter(split[0], split[1], config) as epoch_images:
        checkpoint = Path(scratch) / "checkpoint.keras"
        model, history = keras_models.train(config, *split, checkpoint, epoch_images, verbose, initial)
    directory = model_dir(name, args.out)
    keras_models.save(model, directory / "model.keras")
    return lambda x: model.predict(x, batch_size=1000, verbose=0), history, asdict(config), directory


def train_one(name: str, args: argparse.Namespace, mnist: Mnist) -> None:
    """Train one model, then write its weights and reports."""
    if name in ensemble.PRESETS:
        return assemble(name, args, mnist)
    numpy_config = numpy_net.PRESETS.get(name)
    val_fraction = numpy_config.val_fraction if numpy_config else _keras_val_fraction(name)
    images, labels = mnist.x_train[: args.train_limit], mnist.y_train[: args.train_limit]
    x_train, y_train, x_val, y_val = split_validation(images, labels, val_fraction, args.seed)
    split = (to_float(x_train), y_train, to_float(x_val), y_val)
    start = time.perf_counter()
    split = with_pen_drawings(split, numpy_config or _keras_preset(name))
    predict, history, config, directory = (train_numpy if numpy_config else train_keras)(name, args, split)
    seconds = time.perf_counter() - start
    probs = np.asarray(predict(to_float(mnist.x_test)))
    data = {
        "train": training_data(config),
        "n_train": len(split[0]),
        "pen_writers": list(getattr(numpy_config or _keras_preset(name), "pen_writers", ())),
        "n_validation": len(x_val),
        "n_test": len(mnist.x_test),
        "source": mnist.source,
    }
    report = build_report(name, config, mnist.y_test, probs, data, seconds)
    write_reports(directory, history, report, misclassified(mnist.x_test, mnist.y_test, probs))
    print(f"== {name}: test accuracy {report['test']['accuracy']:.4f}, {seconds:.0f}s, written to {directory}")


def assemble(name: str, args: argparse.Namespace, mnist: Mnist) -> None:
    """An ensemble trains nothing: write its config, and its reports from its members' test predictions."""
    config = ensemble.PRESETS[name]
    directory = model_dir(name, args.out)
    try:
        members = [read_report(model_dir(m, args.out)) for m in config.members]
    except ReportMissingError as exc:
        raise SystemExit(f"train.py: {name} averages {', '.join(config.members)}: train them first ({exc})") from None
    ensemble.save_config(config, directory / "ensemble.json")
    probs = load(name, args.out).predict_proba(to_float(mnist.x_test))
    readings = f"{' and '.join(config.members)} at {len(config.rotations)} rotations"
    data = {**members[0]["data"], "train": f"nothing of its own: it averages {readings}"}
    data["pen_writers"] = sorted({w for m in members for w in m["data"].get("pen_writers", ())})
    seconds = sum(r["training_seconds"] for r in members)  # what it took to train its members
    report = build_report(name, asdict(config), mnist.y_test, probs, data, seconds)
    history = {key: [] for key in HISTORY_KEYS}  # no epochs of its own
    write_reports(directory, history, report, misclassified(mnist.x_test, mnist.y_test, probs))
    print(f"== {name}: test accuracy {report['test']['accuracy']:.4f}, written to {directory}")


def training_data(config: dict) -> str:
    """What the model was trained on, in words, for its report."""
    words = "MNIST training digits"
    if config["augment"]:
        words += ", randomly distorted each epoch"
        if config.get("restyle"):
            words += f"; {config['restyle']:.0%} of the 1s, 7s and 9s redrawn as flagged 1s, crossed 7s, hooked 9s"
    if config.get("pen_variants"):
        words += f"; {pen_training.describe(config['pen_writers'], config['pen_variants'])}"
    if config.get("start_from"):
        words += f"; starting from the trained {config['start_from']}"
    return words


def with_pen_drawings(split: tuple, config) -> tuple:
    """The training digits followed by the config's drawn pen digits (trainable writers only), when it asks."""
    if not getattr(config, "pen_variants", 0):
        return split
    x_train, y_train, x_val, y_val = split
    images, labels, _ = pen_training.cached_drawings(config.pen_writers, config.pen_variants, config.seed)
    print(f"   + {len(images)} drawn pen digits of writers {min(config.pen_writers)}-{max(config.pen_writers)}")
    return np.concatenate([x_train, images]), np.concatenate([y_train, labels]), x_val, y_val


def _keras_preset(name: str):
    from mnist_app.keras_models import PRESETS

    return PRESETS[name]


def _keras_val_fraction(name: str) -> float:
    return _keras_preset(name).val_fraction


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        mnist = load_mnist(args.data)
    except MnistDataError as exc:
        raise SystemExit(f"train.py: {exc}") from None
    for name in expand(args.models):
        if not args.calibrate_only:
            train_one(name, args, mnist)
        if name in SHIPPED:
            calibrate(name, args)


def calibrate(name: str, args: argparse.Namespace) -> None:
    """Fit the model's temperature and unsure-threshold on drawn pen digits of writers it never trained on;
    write calibration.json, and the fit (ECE before and after, reliability) into its report.json."""
    directory = model_dir(name, args.out)
    report = read_report(directory)
    writers = pen_training.CALIBRATION_WRITERS
    if set(writers) & set(report["data"].get("pen_writers", ())):
        raise SystemExit(f"train.py: {name} trained on writers {writers}: cannot calibrate on them")
    images, labels, _ = pen_training.cached_drawings(writers, CALIBRATION_VARIANTS, CALIBRATION_SEED)
    model = replace(load(name, args.out), temperature=1.0)  # the network's own probabilities
    raw = model.predict_proba(images)
    fitted_on = f"{len(images)} drawings: {pen_training.describe(writers, CALIBRATION_VARIANTS)}"
    fit = calibration.fit(raw, labels, SURE_TARGETS.get(name, SURE_TARGET), fitted_on)
    calibration.save(fit, directory)
    after = calibration.tempered(raw, fit.temperature)
    report["calibration"] = {
        **asdict(fit),
        "at_threshold": calibration.sure_summary(after, labels, fit.unsure_below),
        "reliability_before": calibration.reliability(raw, labels),
        "reliability_after": calibration.reliability(after, labels),
    }
    write_json(directory / "report.json", report)
    summary = report["calibration"]["at_threshold"]
    print(
        f"== {name}: T {fit.temperature:.2f}, unsure below {fit.unsure_below:.3f}, ECE {fit.ece_before:.4f} -> "
        f"{fit.ece_after:.4f}; on writers {writers[0]}-{writers[-1]}: accuracy {summary['accuracy']:.4f}, "
        f"sure {summary['sure_accuracy']:.4f}, flagged {summary['flagged']:.2%}"
    )


if __name__ == "__main__":
    main()

"""The NumPy network's hyperparameters and presets: the first source project's 784-128-10 SGD network, and the
wider network the app ships. Imports nothing heavy (kinds.py reads it before any model loads); never TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from mnist_app.contract import zip_looks_whole
from mnist_app.data.augment import describe_training
from mnist_app.data.pen_training import TRAINING_VARIANTS, TRAINING_WRITERS

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


@dataclass(frozen=True)
class NumpyMLPConfig:
    """Hyperparameters; the defaults are the source project's (SGD 0.01, batch 32, 10 epochs)."""

    kind: ClassVar[str] = "numpy"
    trains_itself: ClassVar[bool] = True

    hidden: int = 128
    learning_rate: float = 0.01
    batch_size: int = 32
    epochs: int = 10
    optimizer: str = "sgd"  # "sgd", "momentum", "rmsprop" or "adam"
    early_stopping: int = 0  # patience in epochs (0 = off): stop when val_loss stops falling, keep the best epoch
    beta1: float = 0.9  # decay of the gradient's running mean: momentum's beta, Adam's beta1
    schedule: str = "constant"  # "constant" or "cosine" (decays the rate to 0 over training)
    init: str = "he"  # "he" (scaled for ReLU) or "small" (N(0, 0.01), the source project's)
    augment: bool = False  # random distortions of the training digits each epoch
    restyle: float = 0.0  # with augment: share of 1s, 7s and 9s redrawn in other writing styles (styles.py)
    val_fraction: float = 0.1
    start_from: str = ""  # fine-tune: the preset whose trained weights training starts from ("" = random init)
    pen_writers: tuple[int, ...] = ()  # pen-digit writers (1-20 only) drawn as on the canvas and mixed into training
    pen_variants: int = 0  # drawings of each of their digits (pen_training.py); 0 = MNIST only
    seed: int = 0
    label: str = ""  # what the app calls the model

    def __post_init__(self) -> None:
        object.__setattr__(self, "pen_writers", tuple(self.pen_writers))  # a JSON list becomes the tuple it was
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}")
        if self.schedule not in ("constant", "cosine") or self.init not in ("he", "small"):
            raise ValueError(f"unknown schedule {self.schedule!r} or init {self.init!r}")
        if self.hidden < 1 or self.batch_size < 1 or self.epochs < 1 or self.learning_rate <= 0:
            raise ValueError("hidden, batch_size, epochs and learning_rate must be positive")
        if self.early_stopping < 0:
            raise ValueError(f"early_stopping is a patience in epochs (0 = off), got {self.early_stopping}")
        if not 0.0 <= self.restyle <= 1.0:
            raise ValueError(f"restyle is a probability, got {self.restyle}")

    def describe(self) -> str:
        return (
            f"784-{self.hidden}-10 ReLU/softmax, hand-written backprop, {self.optimizer} lr {self.learning_rate:g} "
            f"({self.schedule}), batch {self.batch_size}, {self.epochs} epochs"
            + (f", early stopping (patience {self.early_stopping})" if self.early_stopping else "")
        )

    def trained_on(self) -> str:
        return describe_training(self.augment, self.restyle, self.start_from, self.pen_writers, self.pen_variants)


MNIST_MLP = NumpyMLPConfig(
    hidden=512,
    optimizer="adam",
    learning_rate=1e-3,
    batch_size=128,
    epochs=30,
    schedule="cosine",
    augment=True,
    restyle=0.5,
    label="NumPy MLP (MNIST only)",
)


PRESETS = {
    # the model the app ships: numpy-mlp-mnist fine-tuned on MNIST and pen digits of writers 1-20 drawn as on the
    # canvas (its tuning twin, on writers 1-15, leaves 16-20 to fit its calibration: pen_training.TWIN_WRITERS)
    "numpy-mlp": replace(
        MNIST_MLP,
        learning_rate=3e-4,
        epochs=8,
        augment=False,  # variety comes from the pen drawings; distorting 76k digits per epoch was most of the time
        restyle=0.0,
        start_from="numpy-mlp-mnist",
        pen_writers=TRAINING_WRITERS,
        pen_variants=TRAINING_VARIANTS,
        label="NumPy MLP (from scratch)",
    ),
    # wider, He init, Adam with cosine decay, augmented MNIST digits in both writing styles (MNIST only)
    "numpy-mlp-mnist": MNIST_MLP,
    # the first source project, as it was: 784-128-10, SGD 0.01, batch 32, 10 epochs
    "numpy-mlp-source": NumpyMLPConfig(init="small", label="NumPy MLP, the source project's (784-128-10, SGD)"),
}


SHIPPED = ("numpy-mlp",)  # the app reads with it (kinds.py); the others are comparisons


looks_whole = zip_looks_whole  # the kind's cheap check of its weights file (kinds.py)

"""Keras models' hyperparameters and presets: the source projects' MLPs, their comparison variants, and a CNN.

This module never imports Keras, so train.py and the pages can read the presets without waiting for TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from mnist_app.contract import zip_looks_whole
from mnist_app.data.augment import describe_training
from mnist_app.data.pen_training import TRAINING_VARIANTS, TRAINING_WRITERS

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


@dataclass(frozen=True)
class KerasConfig:
    """One Keras model's hyperparameters, saved beside its weights in report.json."""

    kind: ClassVar[str] = "keras"
    trains_itself: ClassVar[bool] = True

    architecture: str = "mlp"  # "mlp" or "cnn"
    hidden: tuple[int, ...] = (512, 256, 128)  # MLP layer widths
    activation: str = "relu"
    loss: str = "categorical_crossentropy"  # or "binary_crossentropy" (with sigmoid outputs)
    optimizer: str = "rmsprop"  # "rmsprop", "adam", "sgd" or "momentum" (SGD with momentum 0.9)
    learning_rate: float = 1e-3
    schedule: str = "constant"  # "constant" or "cosine"
    batch_size: int = 128
    epochs: int = 15
    val_fraction: float = 0.2
    dropout: float = 0.0
    batch_norm: bool = False
    early_stopping: int = 0  # patience in epochs; 0 = off
    augment: bool = False
    restyle: float = 0.0  # with augment: share of 1s, 7s and 9s redrawn in other writing styles (styles.py)
    erase_ink: float = 0.0  # share of training digits that lose part of their ink each batch (augment.erase_ink)
    start_from: str = ""  # fine-tune: the preset whose trained weights training starts from ("" = random init)
    pen_writers: tuple[int, ...] = ()  # pen-digit writers (1-20 only) drawn as on the canvas and mixed into training
    pen_variants: int = 0  # drawings of each of their digits (pen_training.py); 0 = MNIST only
    seed: int = 0
    description: str = ""
    label: str = ""  # what the app calls the model

    def __post_init__(self) -> None:
        object.__setattr__(self, "pen_writers", tuple(self.pen_writers))  # JSON lists become the tuples they were
        if self.architecture not in ("mlp", "cnn") or self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown architecture {self.architecture!r} or optimizer {self.optimizer!r}")
        if self.loss not in ("categorical_crossentropy", "binary_crossentropy"):
            raise ValueError(f"unknown loss {self.loss!r}")
        if not 0.0 <= self.restyle <= 1.0 or not 0.0 <= self.erase_ink <= 1.0:
            raise ValueError(f"restyle and erase_ink are probabilities, got {self.restyle} and {self.erase_ink}")

    def describe(self) -> str:
        return self.description

    def trained_on(self) -> str:
        return describe_training(
            self.augment, self.restyle, self.start_from, self.pen_writers, self.pen_variants, self.erase_ink
        )


CNN_MNIST = KerasConfig(
    architecture="cnn",
    optimizer="adam",
    schedule="cosine",
    epochs=30,
    val_fraction=0.1,
    dropout=0.3,
    batch_norm=True,
    augment=True,
    description="CNN 2x(conv32) 2x(conv64) dense 128, BatchNorm, augmented MNIST digits",
    label="Keras CNN (MNIST only)",
)
SOURCE_MLP = KerasConfig(
    description="512-256-128 ReLU, RMSprop 1e-3, batch 128, 15 epochs (source: 98.18%)",
    label="Keras MLP, RMSprop (source)",
)
MLP_MNIST = replace(
    SOURCE_MLP,
    optimizer="adam",
    schedule="cosine",
    dropout=0.2,
    epochs=30,
    val_fraction=0.1,
    augment=True,
    restyle=0.5,
    description="512-256-128 ReLU MLP, Adam + cosine decay, dropout 0.2, augmented digits in both writing styles",
    label="Keras MLP (MNIST only)",
)
CNN_FINE_TUNED = replace(
    CNN_MNIST,
    learning_rate=1e-4,
    epochs=1,
    augment=False,  # the variety comes from the drawn pen digits
    start_from="keras-cnn-mnist",
    pen_writers=TRAINING_WRITERS,
    pen_variants=TRAINING_VARIANTS,
    description="keras-cnn-mnist fine-tuned for 1 epoch on MNIST and drawn pen digits",
    label="Keras CNN, no erased ink (the ensemble's CNN)",
)
PRESETS: dict[str, KerasConfig] = {
    # the model the app ships: the MNIST-trained MLP below, fine-tuned on MNIST and pen digits drawn as on the canvas
    "keras-mlp": replace(
        MLP_MNIST,
        learning_rate=3e-4,
        epochs=3,
        augment=False,  # variety comes from the pen drawings; distorting 76k digits per epoch was most of the time
        restyle=0.0,
        start_from="keras-mlp-mnist",
        pen_writers=TRAINING_WRITERS,
        pen_variants=TRAINING_VARIANTS,
        description="keras-mlp-mnist fine-tuned for 3 epochs on MNIST and drawn pen digits",
        label="Keras MLP",
    ),
    # the source MLP made sturdier with dropout, a schedule and augmentation: MNIST (and restyled 1s, 7s, 9s) only
    "keras-mlp-mnist": MLP_MNIST,
    # the MNIST-only CNN, kept for comparison and as the starting point of the shipped one
    "keras-cnn-mnist": CNN_MNIST,
    # the model the app ships: the MNIST-only CNN, fine-tuned on MNIST and pen digits drawn as on the canvas, a few
    # of them with holes in their strokes, so that erasing the ink its saliency map ranks highest is what moves it
    # (issue 13; docs/experiments.md, Round 5)
    "keras-cnn": replace(
        CNN_FINE_TUNED,
        erase_ink=0.02,
        description="keras-cnn-mnist fine-tuned for 1 epoch on MNIST and drawn pen digits, "
        "2% of them with part of their ink erased",
        label="Keras CNN",
    ),
    # the same fine-tune without erased ink: the ensemble's CNN, where it reads a few more drawn digits
    "keras-cnn-no-erasing": CNN_FINE_TUNED,
    # the source projects, as they were
    "keras-mlp-rmsprop": SOURCE_MLP,
    "keras-mlp-sigmoid": KerasConfig(
        hidden=(512, 128),
        activation="sigmoid",
        loss="binary_crossentropy",
        batch_size=32,  # the source set none: Keras' default (with 128, the same script reached 95.7%)
        epochs=20,
        description="512-128 sigmoid, binary cross-entropy, RMSprop, batch 32, 20 epochs (source: 97.96%)",
        label="Keras MLP, sigmoid + binary cross-entropy (source)",
    ),
    "keras-mlp-adam": KerasConfig(
        hidden=(512, 256),
        optimizer="adam",
        epochs=50,
        early_stopping=5,
        description="512-256 Adam, EarlyStopping(patience 5, best weights restored), ModelCheckpoint",
        label="Keras MLP, Adam + early stopping (source)",
    ),
    # the source projects' comparisons: one change each against keras-mlp-adam
    "keras-mlp-sgd": KerasConfig(
        hidden=(512, 256),
        optimizer="sgd",
        learning_rate=0.01,
        epochs=15,
        description="512-256, SGD 0.01 (vs Adam)",
        label="Keras MLP, SGD (comparison)",
    ),
    "keras-mlp-dropout": KerasConfig(
        hidden=(512, 256),
        optimizer="adam",
        epochs=15,
        dropout=0.3,
        description="512-256 Adam + Dropout 0.3",
        label="Keras MLP, Dropout (comparison)",
    ),
    "keras-mlp-batchnorm": KerasConfig(
        hidden=(512, 256),
        optimizer="adam",
        epochs=15,
        batch_norm=True,
        description="512-256 Adam + BatchNorm",
        label="Keras MLP, BatchNorm (comparison)",
    ),
}
SHIPPED = ("keras-mlp", "keras-cnn")  # the app reads with them (kinds.py); the others are comparisons
looks_whole = zip_looks_whole  # the kind's cheap check of its weights file (kinds.py)

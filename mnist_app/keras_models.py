"""Keras models: the source projects' MLPs, their comparison variants, and a CNN.

Importing this module imports Keras (and so TensorFlow): only `models.load` and the
trainers do, so the NumPy model never waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np

from .artifacts import atomic_path


@dataclass(frozen=True)
class KerasConfig:
    """One Keras model's hyperparameters, saved beside its weights in report.json."""

    architecture: str = "mlp"  # "mlp" or "cnn"
    hidden: tuple[int, ...] = (512, 256, 128)  # MLP layer widths
    activation: str = "relu"
    loss: str = "categorical_crossentropy"  # or "binary_crossentropy" (with sigmoid outputs)
    optimizer: str = "rmsprop"  # "rmsprop", "adam" or "sgd"
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
    start_from: str = ""  # fine-tune: the preset whose trained weights training starts from ("" = random init)
    seed: int = 0
    description: str = ""
    pen_writers: tuple[int, ...] = ()  # pen-digit writers (1-20 only) drawn as on the canvas and mixed into training
    pen_variants: int = 0  # drawings of each of their digits (pen_training.py); 0 = MNIST only

    def __post_init__(self) -> None:
        object.__setattr__(self, "pen_writers", tuple(self.pen_writers))
        if self.architecture not in ("mlp", "cnn") or self.optimizer not in ("rmsprop", "adam", "sgd"):
            raise ValueError(f"unknown architecture {self.architecture!r} or optimizer {self.optimizer!r}")
        if self.loss not in ("categorical_crossentropy", "binary_crossentropy"):
            raise ValueError(f"unknown loss {self.loss!r}")
        if not 0.0 <= self.restyle <= 1.0:
            raise ValueError(f"restyle is a probability, got {self.restyle}")


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
)
SOURCE_MLP = KerasConfig(description="512-256-128 ReLU, RMSprop 1e-3, batch 128, 15 epochs (source: 98.18%)")
PEN_WRITERS = tuple(range(1, 16))  # writers 16-20 stay out of training: they choose the ensemble and fit calibration
PEN_VARIANTS = 6
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
        pen_writers=PEN_WRITERS,
        pen_variants=PEN_VARIANTS,
        description="keras-mlp-mnist fine-tuned for 3 epochs on MNIST and drawn pen digits (writers 1-15)",
    ),
    # the source MLP made sturdier with dropout, a schedule and augmentation: MNIST (and restyled 1s, 7s, 9s) only
    "keras-mlp-mnist": MLP_MNIST,
    # the MNIST-only CNN, kept for comparison and as the starting point of the shipped one
    "keras-cnn-mnist": CNN_MNIST,
    # the model the app ships: the MNIST-only CNN, fine-tuned on MNIST and pen digits drawn as on the canvas
    "keras-cnn": replace(
        CNN_MNIST,
        learning_rate=1e-4,
        epochs=1,
        augment=False,  # the variety comes from the drawn pen digits
        start_from="keras-cnn-mnist",
        pen_writers=PEN_WRITERS,
        pen_variants=PEN_VARIANTS,
        description="keras-cnn-mnist fine-tuned for 1 epoch on MNIST and drawn pen digits (writers 1-15)",
    ),
    # the source projects, as they were
    "keras-mlp-rmsprop": SOURCE_MLP,
    "keras-mlp-sigmoid": KerasConfig(
        hidden=(512, 128),
        activation="sigmoid",
        loss="binary_crossentropy",
        description="512-128 sigmoid, binary cross-entropy (source: 97.96%)",
    ),
    "keras-mlp-adam": KerasConfig(
        hidden=(512, 256),
        optimizer="adam",
        epochs=50,
        early_stopping=5,
        description="512-256 Adam, EarlyStopping(patience 5, best weights restored), ModelCheckpoint",
    ),
    # the source projects' comparisons: one change each against keras-mlp-adam
    "keras-mlp-sgd": KerasConfig(
        hidden=(512, 256),
        optimizer="sgd",
        learning_rate=0.01,
        epochs=15,
        description="512-256, SGD 0.01 (vs Adam)",
    ),
    "keras-mlp-dropout": KerasConfig(
        hidden=(512, 256),
        optimizer="adam",
        epochs=15,
        dropout=0.3,
        description="512-256 Adam + Dropout 0.3",
    ),
    "keras-mlp-batchnorm": KerasConfig(
        hidden=(512, 256),
        optimizer="adam",
        epochs=15,
        batch_norm=True,
        description="512-256 Adam + BatchNorm",
    ),
}


def build_model(config: KerasConfig) -> keras.Model:
    """An uncompiled model: (n, 28, 28) float32 in [0, 1] -> (n, 10)."""
    inputs = keras.Input(shape=(28, 28), name="digit")
    x = _cnn_body(inputs, config) if config.architecture == "cnn" else _mlp_body(inputs, config)
    output_activation = "sigmoid" if config.loss == "binary_crossentropy" else "softmax"
    outputs = keras.layers.Dense(10, activation=output_activation, name="probabilities")(x)
    return keras.Model(inputs, outputs, name=config.architecture)


def _dense_block(x, units: int, config: KerasConfig):
    """Dense, then BatchNorm and Dropout where configured."""
    x = keras.layers.Dense(units, use_bias=not config.batch_norm)(x)
    if config.batch_norm:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation(config.activation)(x)
    return keras.layers.Dropout(config.dropout)(x) if config.dropout else x


def _mlp_body(inputs, config: KerasConfig):
    x = keras.layers.Flatten()(inputs)
    for units in config.hidden:
        x = _dense_block(x, units, config)
    return x


def _cnn_body(inputs, config: KerasConfig):
    x = keras.layers.Reshape((28, 28, 1))(inputs)
    for filters in (32, 64):
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not config.batch_norm)(x)
            x = keras.layers.BatchNormalization()(x) if config.batch_norm else x
            x = keras.layers.Activation("relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    return _dense_block(keras.layers.Flatten()(x), 128, config)


def make_optimizer(config: KerasConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    rate = config.learning_rate
    if config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps_per_epoch * config.epochs)
    return {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[
        config.optimizer
    ](learning_rate=rate)


class EpochData(keras.utils.PyDataset):
    """Training batches from a fresh set of images each epoch (the distorted digits), reshuffled per epoch."""

    def __init__(self, epoch_images: Callable[[int], np.ndarray], y, batch_size: int, epochs: int, seed: int):
        super().__init__()
        self.epoch_images, self.y, self.batch_size, self.epochs, self.seed = epoch_images, y, batch_size, epochs, seed
        self._start_epoch(0)

    def _start_epoch(self, epoch: int) -> None:
        self.epoch, self.x = epoch, self.epoch_images(epoch)
        self.order = np.random.default_rng((self.seed, epoch)).permutation(len(self.y))

    def __len__(self) -> int:
        return int(np.ceil(len(self.y) / self.batch_size))

    def __getitem__(self, index: int):
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[batch], self.y[batch]

    def on_epoch_end(self) -> None:
        if self.epoch + 1 < self.epochs:  # Keras also calls this after the last epoch
            self._start_epoch(self.epoch + 1)


def train(
    config: KerasConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    checkpoint: Path,
    epoch_images: Callable[[int], np.ndarray] | None = None,
    verbose: int | str = "auto",
    initial_weights: Path | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Compile and fit; returns the trained model and the per-epoch history.

    `epoch_images`, when given, supplies each epoch's (distorted) training images.
    `initial_weights`, a saved .keras model of the same architecture, is where training starts (fine-tuning).
    """
    keras.utils.set_random_seed(config.seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()  # same seed, same weights, also for multi-threaded ops
    model = build_model(config)
    if initial_weights is not None:
        start_from(model, initial_weights)
    onehot_train, onehot_val = np.eye(10, dtype=np.float32)[y_train], np.eye(10, dtype=np.float32)[y_val]
    steps = int(np.ceil(len(x_train) / config.batch_size))
    # argmax-against-argmax accuracy, also for sigmoid outputs (binary cross-entropy) that still pick one class
    accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")
    model.compile(optimizer=make_optimizer(config, steps), loss=config.loss, metrics=[accuracy])
    callbacks = [
        # keeps the best epoch on disk while training runs; a crash leaves it behind, never the shipped model
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True),
    ]
    if config.early_stopping:
        # stop after `patience` epochs without a better val_loss, and roll back to the best epoch's weights
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping, restore_best_weights=True)
        )
    if epoch_images:
        data, labels = EpochData(epoch_images, onehot_train, config.batch_size, config.epochs, config.seed), None
    else:
        data, labels = x_train, onehot_train
    history = model.fit(
        data,
        labels,
        batch_size=None if epoch_images else config.batch_size,
        epochs=config.epochs,
        validation_data=(x_val, onehot_val),
        callbacks=callbacks,
        shuffle=True,
        verbose=verbose,
    )
    return model, _history(history.history)


def start_from(model: keras.Model, path: Path) -> None:
    """Copy a saved model's weights into `model`; ValueError if the architectures differ."""
    weights = keras.saving.load_model(path, compile=False, safe_mode=True).get_weights()
    if [w.shape for w in weights] != [tuple(w.shape) for w in model.get_weights()]:
        raise ValueError(f"{path} holds a different architecture; cannot start training from it")
    model.set_weights(weights)


def _history(raw: dict) -> dict[str, list[float]]:
    return {key: [float(v) for v in raw[key]] for key in ("loss", "accuracy", "val_loss", "val_accuracy")}


def save(model: keras.Model, path: Path) -> None:
    """Save weights and architecture as .keras, without optimizer state, atomically."""
    inference = keras.Model.from_config(model.get_config())  # same layers, never compiled: no optimizer
    inference.set_weights(model.get_weights())
    with atomic_path(path) as tmp:  # the temp name ends in .keras, as Keras requires
        inference.save(tmp, overwrite=True)


class KerasClassifier:
    """A saved Keras model behind the shared contract (`predict_proba`)."""

    def __init__(self, model: keras.Model):
        self.model = model
        self._lock = threading.Lock()  # Streamlit serves sessions from threads; one call at a time

    @classmethod
    def load(cls, path: Path) -> KerasClassifier:
        """Load in safe mode (no arbitrary code), without compiling."""
        return cls(keras.saving.load_model(path, compile=False, safe_mode=True))

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10) probabilities summing to 1.

        predict_on_batch runs the compiled graph without .predict's per-call set-up: one drawing took
        about 3 ms this way against about 25 ms for an eager model(x) call, on the 2-core CI machine.
        """
        with self._lock:
            raw = np.asarray(self.model.predict_on_batch(np.asarray(images, dtype=np.float32)), dtype=np.float64)
        return raw / raw.sum(axis=1, keepdims=True)  # sigmoid outputs (binary cross-entropy) do not sum to 1

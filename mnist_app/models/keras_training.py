"""Keras networks: build and fit the configurations of keras_config.py, and save them without optimizer state.

Importing this module imports Keras (and so TensorFlow), quietly: only loading or training a Keras model does
(kinds.py), so the NumPy model never waits for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from mnist_app.artifacts import atomic_path
from mnist_app.contract import HISTORY_KEYS, TrainingListener, empty_history
from mnist_app.data.augment import erase_ink
from mnist_app.models.keras_config import KerasConfig


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2: TensorFlow's CUDA probe prints there before its own logging is set up."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# A CPU machine has no CUDA: keep "failed call to cuInit" and friends out of the server's log
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
with _quiet_stderr():
    import keras


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
    if config.optimizer == "momentum":
        return keras.optimizers.SGD(learning_rate=rate, momentum=0.9)
    return {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[
        config.optimizer
    ](learning_rate=rate)


class EpochData(keras.utils.PyDataset):
    """Training batches from a fresh set of images each epoch (the distorted digits), reshuffled per epoch,
    and with part of some digits' ink erased afresh in every batch when `erase_ink` asks for it."""

    def __init__(
        self, epoch_images: Callable[[int], np.ndarray], y, batch_size: int, epochs: int, seed: int, erase: float = 0.0
    ):
        super().__init__()
        self.epoch_images, self.y, self.batch_size, self.epochs, self.seed = epoch_images, y, batch_size, epochs, seed
        self.erase = erase
        self._start_epoch(0)

    def start_at(self, epoch: int) -> None:
        """Begin with `epoch`'s images (a run going on from a saved epoch)."""
        if epoch:
            self._start_epoch(epoch)

    def _start_epoch(self, epoch: int) -> None:
        self.epoch, self.x = epoch, self.epoch_images(epoch)
        self.order = np.random.default_rng((self.seed, epoch)).permutation(len(self.y))

    def __len__(self) -> int:
        return int(np.ceil(len(self.y) / self.batch_size))

    def __getitem__(self, index: int):
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        if not self.erase:
            return self.x[batch], self.y[batch]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        return erase_ink(self.x[batch], rng, self.erase), self.y[batch]

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
    initial_weights: keras.Model | None = None,
    listener: TrainingListener | None = None,
    state: Path | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Compile and fit; returns the trained model and the per-epoch history.

    `epoch_images`, when given, supplies each epoch's (distorted) training images.
    `initial_weights`, a trained model of the same architecture, is where training starts (fine-tuning).
    `listener` hears every batch and epoch and may stop the run (contract.TrainingListener).
    `state`, a folder: each finished epoch's weights, optimizer and history are saved there (Keras' BackupAndRestore),
    and training goes on from the epoch it holds. Its batches are shuffled afresh, so it ends near, not exactly at,
    where a run that never stopped would.
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
    earlier = empty_history()
    if state is not None:  # before the listener: an epoch it hears is saved
        keeping = EpochHistory(state)
        earlier = keeping.resumed()
        callbacks += [keeping, keras.callbacks.BackupAndRestore(state, delete_checkpoint=False)]
    listening = Listening(listener, steps, config.early_stopping) if listener else None
    callbacks += [listening] if listening else []  # last: its rollback on a stop has the final word
    if config.erase_ink and not epoch_images:
        epoch_images = lambda epoch: x_train  # noqa: E731  (the same digits every epoch, erased afresh per batch)
    if epoch_images:
        batches = EpochData(epoch_images, onehot_train, config.batch_size, config.epochs, config.seed, config.erase_ink)
        batches.start_at(len(earlier["loss"]))
        data, labels = batches, None
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
    finished = listening.finished if listening else config.epochs  # a stop mid-epoch leaves that epoch out
    return model, {key: earlier[key] + values[:finished] for key, values in _history(history.history).items()}


class EpochHistory(keras.callbacks.Callback):
    """Keeps each finished epoch's history row in `folder`, beside BackupAndRestore's weights, so that a run that goes
    on from them has its whole history (Keras' History holds only the epochs of its own `fit`)."""

    def __init__(self, folder: Path):
        super().__init__()
        self.path, done = Path(folder) / "history.json", Path(folder) / "training_metadata.json"
        self.rows = []  # the rows of the epochs BackupAndRestore's weights have finished (its metadata counts them)
        if done.is_file() and self.path.is_file():
            self.rows = json.loads(self.path.read_text())[: json.loads(done.read_text())["epoch"]]

    def resumed(self) -> dict[str, list[float]]:
        """The history of the epochs training goes on after."""
        return {key: [row[key] for row in self.rows] for key in HISTORY_KEYS}

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.rows = self.rows[:epoch] + [{key: float(logs[key]) for key in HISTORY_KEYS}]
        with atomic_path(self.path) as tmp:
            Path(tmp).write_text(json.dumps(self.rows))


class Listening(keras.callbacks.Callback):
    """A TrainingListener heard through Keras, as the NumPy trainer calls it: each batch, each finished epoch, and
    a stop that keeps the last finished epoch's weights (the lowest val_loss's, with early stopping)."""

    def __init__(self, listener: TrainingListener, batches: int, early_stopping: int):
        super().__init__()
        self.listener, self.batches, self.best_only = listener, batches, bool(early_stopping)
        self.epoch, self.done, self.finished, self.best, self.kept = 0, 0, 0, np.inf, None

    def on_train_begin(self, logs=None) -> None:
        self.kept = self.model.get_weights()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch, self.done = epoch, 0

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.done = batch + 1
        logs = logs or {}
        self.listener.on_batch(self.epoch, self.done, self.batches, float(logs["loss"]), float(logs["accuracy"]))
        if self.listener.stop_requested():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.done < self.batches:  # stopped mid-epoch: Keras still ends the epoch, the run does not keep it
            return
        scores = {key: float(logs[key]) for key in HISTORY_KEYS}
        self.finished += 1
        if not self.best_only or scores["val_loss"] < self.best:
            self.kept, self.best = self.model.get_weights(), scores["val_loss"]
        self.listener.on_epoch(epoch, scores)

    def on_train_end(self, logs=None) -> None:
        self.model.set_weights(self.kept)


def start_from(model: keras.Model, trained: keras.Model) -> None:
    """Copy a trained model's weights into `model`; ValueError if the architectures differ."""
    weights = trained.get_weights()
    if [w.shape for w in weights] != [tuple(w.shape) for w in model.get_weights()]:
        raise ValueError(f"{trained.name} has a different architecture; cannot start training from it")
    model.set_weights(weights)


def _history(raw: dict) -> dict[str, list[float]]:
    return {key: [float(v) for v in raw[key]] for key in HISTORY_KEYS}


def save(model: keras.Model, path: Path) -> None:
    """Save weights and architecture as .keras, without optimizer state, atomically."""
    inference = keras.Model.from_config(model.get_config())  # same layers, never compiled: no optimizer
    inference.set_weights(model.get_weights())
    with atomic_path(path) as tmp:  # the temp name ends in .keras, as Keras requires
        inference.save(tmp, overwrite=True)

"""Keras models: build, train, save and load the configurations of keras_config.py.

Importing this module imports Keras (and so TensorFlow): only loading or training a Keras
model does (kinds.py), so the NumPy model never waits for it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .artifacts import atomic_path
from .augment import epoch_augmenter, erase_ink
from .contract import HISTORY_KEYS, ExplainError, LoadModel, TrainingData, TrainingListener
from .keras_config import KerasConfig


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
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Compile and fit; returns the trained model and the per-epoch history.

    `epoch_images`, when given, supplies each epoch's (distorted) training images.
    `initial_weights`, a trained model of the same architecture, is where training starts (fine-tuning).
    `listener` hears every batch and epoch and may stop the run (contract.TrainingListener).
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
    listening = Listening(listener, steps, config.early_stopping) if listener else None
    callbacks += [listening] if listening else []  # last: its rollback on a stop has the final word
    if config.erase_ink and not epoch_images:
        epoch_images = lambda epoch: x_train  # noqa: E731  (the same digits every epoch, erased afresh per batch)
    if epoch_images:
        batches = EpochData(epoch_images, onehot_train, config.batch_size, config.epochs, config.seed, config.erase_ink)
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
    return model, {key: values[:finished] for key, values in _history(history.history).items()}


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


class KerasClassifier:
    """A saved Keras model behind the shared contract (`predict_proba`)."""

    def __init__(self, model: keras.Model):
        self.model = model
        self._lock = threading.Lock()  # Streamlit serves sessions from threads; one call at a time

    @classmethod
    def load(cls, path: Path) -> KerasClassifier:
        """Load in safe mode (no arbitrary code), without compiling; ValueError unless it maps digits to ten."""
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        if tuple(model.input_shape[1:]) != (28, 28) or tuple(model.output_shape)[1:] != (10,):
            raise ValueError(f"model maps {model.input_shape} to {model.output_shape}, not (n, 28, 28) to (n, 10)")
        return cls(model)

    def save(self, path: Path) -> None:
        save(self.model, path)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10) probabilities summing to 1.

        predict_on_batch runs the compiled graph without .predict's per-call set-up: one drawing took
        about 3 ms this way against about 25 ms for an eager model(x) call, on the 2-core CI machine.
        """
        with self._lock:
            raw = np.asarray(self.model.predict_on_batch(np.asarray(images, dtype=np.float32)), dtype=np.float64)
        return raw / raw.sum(axis=1, keepdims=True)  # sigmoid outputs (binary cross-entropy) do not sum to 1

    def input_gradient(self, images: np.ndarray, targets: np.ndarray, quantity: str) -> np.ndarray:
        """d(target's logit or log-probability)/d(pixels): (n, 28, 28) float64, by tf.GradientTape.

        The tape runs in a compiled tf.function (one trace per quantity): eager, one drawing took about 3x as long.
        """
        x = np.asarray(images, dtype=np.float32)
        with self._lock:
            gradient = self._compiled_gradient(quantity)(x, np.asarray(targets, dtype=np.int32))
        return np.asarray(gradient, dtype=np.float64)

    def _compiled_gradient(self, quantity: str):
        import tensorflow as tf

        compiled = self.__dict__.setdefault("_gradients", {})
        if quantity not in compiled:
            signature = [tf.TensorSpec((None, 28, 28), tf.float32), tf.TensorSpec((None,), tf.int32)]

            def gradient(x, targets):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    _, chosen = self._target_scores(x, targets, quantity)
                return tape.gradient(chosen, x)

            compiled[quantity] = tf.function(gradient, input_signature=signature)
        return compiled[quantity]

    def focus(self, image: np.ndarray, target: int) -> list[tuple[str, np.ndarray, bool]]:
        """What it looks at: the Grad-CAM heat map of its last convolution, (28, 28) in [0, 1], for `target`.

        Grad-CAM weighs each feature map of that convolution by the mean gradient of the target's logit over
        it, sums them and keeps the positive part: where the features that raise the answer fire.
        """
        if self._last_convolution() is None:
            raise ExplainError("this network has no convolution, so it has no Grad-CAM view (the CNN has one)")
        x = np.asarray(image, dtype=np.float32)[None]
        with self._lock:
            cam = np.asarray(self._compiled_grad_cam()(x, np.array([target], dtype=np.int32)))[0]
        from PIL import Image

        heat = np.asarray(Image.fromarray(cam.astype(np.float32), mode="F").resize((28, 28), Image.Resampling.BILINEAR))
        return [(f"Grad-CAM of its last convolution for {target}", heat / max(float(heat.max()), 1e-12), False)]

    def _compiled_grad_cam(self):
        """Grad-CAM in a compiled tf.function (traced once): eager, it took 7x as long, most of an explanation."""
        import tensorflow as tf

        compiled = self.__dict__.setdefault("_gradients", {})
        if "grad-cam" not in compiled:
            signature = [tf.TensorSpec((None, 28, 28), tf.float32), tf.TensorSpec((None,), tf.int32)]

            def grad_cam(x, targets):
                with tf.GradientTape() as tape:
                    features, chosen = self._target_scores(x, targets, "logit")
                weights = tf.reduce_mean(tape.gradient(chosen, features), axis=(1, 2), keepdims=True)
                return tf.nn.relu(tf.reduce_sum(features * weights, axis=-1))

            compiled["grad-cam"] = tf.function(grad_cam, input_signature=signature)
        return compiled["grad-cam"]

    def _target_scores(self, x, targets, quantity: str):
        """(the last convolution's output or None, each row's target logit or log-probability), inside a tape."""
        import tensorflow as tf

        outputs = self._explainer()(x, training=False)
        features, penultimate = outputs if isinstance(outputs, (list, tuple)) else (None, outputs)
        last = self.model.layers[-1]  # the output layer: its pre-activation is the logits
        logits = tf.matmul(penultimate, last.kernel) + (last.bias if last.use_bias else 0.0)
        scores = tf.nn.log_softmax(logits) if quantity == "log_probability" else logits
        return features, tf.gather(scores, tf.cast(targets, tf.int32), axis=1, batch_dims=1)

    def _explainer(self) -> keras.Model:
        """The same layers, answering (last convolution's output, the output layer's input); built once."""
        if getattr(self, "_explaining", None) is None:
            convolution = self._last_convolution()
            penultimate = self.model.layers[-1].input
            outputs = [convolution.output, penultimate] if convolution is not None else penultimate
            self._explaining = keras.Model(self.model.inputs, outputs)
        return self._explaining

    def _last_convolution(self) -> keras.layers.Layer | None:
        """The layer after the last Conv2D and its BatchNorm and ReLU (its feature maps), or None for an MLP."""
        layers = self.model.layers
        found = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Conv2D)]
        if not found:
            return None
        i = found[-1]
        while isinstance(layers[i + 1], (keras.layers.BatchNormalization, keras.layers.Activation)):
            i += 1
        return layers[i]


def load_network(path: Path, load_model: LoadModel | None = None) -> KerasClassifier:
    """The kind's loader (kinds.py)."""
    return KerasClassifier.load(path)


def train_network(
    config: KerasConfig,
    data: TrainingData,
    load_model: LoadModel,
    verbose: int | str = "auto",
    listener: TrainingListener | None = None,
) -> tuple[KerasClassifier, dict[str, list[float]]]:
    """The kind's trainer (kinds.py): fits on `data`, starting from `config.start_from`'s weights if it names one."""
    initial = load_model(config.start_from).network.model if config.start_from else None
    split = (data.x_train, data.y_train, data.x_val, data.y_val)
    with tempfile.TemporaryDirectory() as scratch, epoch_augmenter(data.x_train, data.y_train, config) as images:
        checkpoint = Path(scratch) / "checkpoint.keras"
        model, history = train(config, *split, checkpoint, images, verbose, initial, listener)
    return KerasClassifier(model), history

"""A trained Keras network behind the models' contract: load it (safe mode), read with it, explain its readings;
the kind's loader and trainer (kinds.py). Building and fitting: keras_training.py.

Importing this module imports Keras (and so TensorFlow): only loading or training a Keras
model does (kinds.py), so the NumPy model never waits for it.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import numpy as np

from mnist_app.contract import ExplainError, LoadModel, TrainingData, TrainingListener
from mnist_app.data.augment import epoch_augmenter
from mnist_app.models.keras_config import KerasConfig
from mnist_app.models.keras_training import keras, save, train  # keras_training imports Keras quietly


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
    state: Path | None = None,
) -> tuple[KerasClassifier, dict[str, list[float]]]:
    """The kind's trainer (kinds.py): fits on `data`, starting from `config.start_from`'s weights if it names one, and
    going on from `state`'s last finished epoch when that folder holds one (saving each epoch's there)."""
    initial = load_model(config.start_from).network.model if config.start_from else None
    split = (data.x_train, data.y_train, data.x_val, data.y_val)
    with tempfile.TemporaryDirectory() as scratch, epoch_augmenter(data.x_train, data.y_train, config) as images:
        checkpoint = Path(scratch) / "checkpoint.keras"
        model, history = train(config, *split, checkpoint, images, verbose, initial, listener, state)
    return KerasClassifier(model), history

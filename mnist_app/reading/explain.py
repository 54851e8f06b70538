"""Why did the model say d? Saliency maps of a reading: which pixels of the drawing were evidence for it.

A map is (28, 28) over the model's input: positive where the ink is evidence for the target digit,
negative where it is evidence against. Each network computes its own input gradient (the NumPy network
by its hand-written backprop, Keras by tf.GradientTape, the ensemble from its members' views turned
back); this module turns gradients into maps the same way for every kind, so pages never ask which
kind they explain. The method and quantity were chosen by the deletion test of benchmarks/explain.py
on the tuning writers (README, Explain).
This module never imports streamlit or TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_app.contract import ExplainError, called, explainable, validate_images

METHODS = ("gradient-x-input", "integrated-gradients")
QUANTITIES = ("log_probability", "logit")
METHOD = "gradient-x-input"
QUANTITY = "log_probability"  # its gradient's sign is the sign of the target probability's change
STEPS = 16  # integrated gradients: points on the path from a black image to the drawing
CHUNK = 64  # drawings per call to the network (times STEPS for integrated gradients)


@dataclass(frozen=True)
class Panel:
    """One picture of what a network looks at: a title, a (28, 28) map, and whether it is signed.

    Signed maps (a unit's incoming weights) are drawn in diverging colours around 0; unsigned ones
    (Grad-CAM) are heat maps in [0, 1].
    """

    title: str
    image: np.ndarray
    signed: bool


def saliency(model, images: np.ndarray, target=None, method: str = METHOD, quantity: str = QUANTITY) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1] -> (n, 28, 28) float64 maps of evidence for `target`.

    `model` is what `models.load` returns; `target` a digit or an (n,) array of digits, by default each
    image's top answer. ValueError for bad images, targets, method or quantity; ExplainError if the model
    cannot be explained.
    """
    images = validate_images(images)
    if method not in METHODS or quantity not in QUANTITIES:
        raise ValueError(f"method must be one of {METHODS} and quantity one of {QUANTITIES}")
    network = explainable(model)
    targets = _targets(model, images, target)
    return np.concatenate(
        [
            _map(network, images[i : i + CHUNK], targets[i : i + CHUNK], method, quantity)
            for i in range(0, len(images), CHUNK)
        ]
    )


def contrast(model, image: np.ndarray, a: int, b: int, **how) -> np.ndarray:
    """Why a and not b: (28, 28), the map for a less the map for b (positive: evidence for a over b)."""
    maps = saliency(model, _one(image, 2), np.array([_digit(a), _digit(b)]), **how)
    return maps[0] - maps[1]


def focus(model, image: np.ndarray, target: int | None = None) -> list[Panel]:
    """What the network looks at for one drawing: its most active units, or its Grad-CAM heat map."""
    image = validate_images(_one(image, 1))[0]
    network = explainable(model)
    if not hasattr(network, "focus"):
        raise ExplainError(f"{called(model)} cannot show what it looks at")
    digit = int(_targets(model, image[None], target)[0])
    return [Panel(title, np.asarray(m, dtype=np.float64), signed) for title, m, signed in network.focus(image, digit)]


def prime(model) -> None:
    """Explain a blank drawing once, so that TensorFlow traces the gradients now (0.3-0.5 s a model), not on the
    first click of a person who asked for an explanation. A model that cannot be explained is left as it is."""
    blank = np.zeros((2, 28, 28), dtype=np.float32)
    try:
        saliency(model, blank, np.array([0, 1]))
        focus(model, blank[0], 0)
    except ExplainError:
        pass


def _map(network, images: np.ndarray, targets: np.ndarray, method: str, quantity: str) -> np.ndarray:
    """Gradient x input, or integrated gradients from a black image (the midpoint rule over STEPS)."""
    if method == "gradient-x-input":
        return network.input_gradient(images, targets, quantity) * images
    alphas = (np.arange(STEPS) + 0.5) / STEPS
    path = (alphas[:, None, None, None] * images[None]).astype(np.float32).reshape(-1, 28, 28)
    grads = network.input_gradient(path, np.tile(targets, STEPS), quantity).reshape(STEPS, *images.shape)
    return grads.mean(axis=0) * images


def _targets(model, images: np.ndarray, target) -> np.ndarray:
    """(n,) int digits: the given digit(s), or each image's top answer."""
    if target is None:
        return np.asarray(model.predict_proba(images)).argmax(axis=1)
    targets = np.broadcast_to(np.asarray(target), (len(images),)) if np.ndim(target) == 0 else np.asarray(target)
    if targets.shape != (len(images),):
        raise ValueError(f"target must be a digit or one digit per image ({len(images)}), got shape {targets.shape}")
    return np.array([_digit(t) for t in targets])


def _digit(value) -> int:
    if isinstance(value, bool) or not np.issubdtype(np.asarray(value).dtype, np.integer) or not 0 <= value <= 9:
        raise ValueError(f"a target is a digit 0-9, got {value!r}")
    return int(value)


def _one(image: np.ndarray, copies: int) -> np.ndarray:
    """One (28, 28) image as a batch of `copies`; ValueError for anything else."""
    array = np.asarray(image)
    if array.shape != (28, 28):
        raise ValueError(f"image must have shape (28, 28), got {array.shape}")
    return np.repeat(array[None], copies, axis=0)

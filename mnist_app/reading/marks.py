"""Is a drawing a digit at all? A small network that has seen digits and marks that are none.

The models answer every drawing with a digit, and a scribble, a ? or a slanted + is often answered with a sure one
(issue 35: 22-57% of scribbles and ?s named as a sure digit). The ink rules of legibility.py catch what a few
measures can tell (a dot, a dash, an X); this catches the rest by what the drawing looks like as the models see it
(28x28): a small Keras CNN (two 3x3 convolutions, 24 and 48 filters, a 64-unit layer, one sigmoid output), taught
pen digits of writers 1-15 and MNIST's training digits against scribbles, zigzags, curls and the signs + x ? * = #
(made_marks.py), every drawing rendered as Chromium's canvas renders it (pendigits.CANVAS_SUPERSAMPLE: fitted on
pendigits' own 2x rendering, an earlier network called held-out 9s drawn with the mouse marks). The pen digits are
also drawn six times as people draw with the mouse, turned and bent a little (drawn_in_the_middle, bent): an earlier
network, without them, gave a held-out 9 drawn in Chromium 0.686. Its threshold was chosen on writers 16-20,
whom it never saw, by a rule written before it was measured (docs/results.md). The Draw page asks it after the number
reader (ui/draw.py); on a photo the number reader weighs its probability for each candidate as a doubt (`doubt`).

    python train.py not-a-digit    # fits it again (MNIST_DATA, PENDIGITS) and writes FILE
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from mnist_app.models.loading import MODELS_DIR
from mnist_app.preprocess import ink_map, normalise
from mnist_app.reading.legibility import NOT_A_DIGIT, Ink, measure_ink

log = logging.getLogger(__name__)
FILE = MODELS_DIR / "not-a-digit" / "model.keras"
DIGIT, MARK = 0, 1  # its target: the probability it gives is that of MARK
# A drawing it gives more than this probability of being a mark is no digit. Chosen (steps of 0.05) on writers 16-20,
# whom it never saw, for the page's safety: the lowest at which at most 0.1% of their 1,247 digits, drawn at the browser
# tests' size at brushes 10-30 (steps of 5) and once as people draw (7,482 drawings), are called marks: 7 (0.09%; 11 at
# 0.8); the highest it gives any of the 300 drawn with the mouse in Chromium is 0.16, under half of it.
MARK_ABOVE = 0.85
UNUSABLE = (OSError, ValueError, KeyError, zipfile.BadZipFile)  # a network file missing, unreadable, or another's
EPOCHS, BATCH, SEED = 10, 128, 0  # Adam; a tenth held aside, stopped when its loss rises twice, the best epoch kept
FITTED_WRITERS = 15  # pen writers 1-15; 16-20 chose MARK_ABOVE
MNIST_DIGITS, MARKS = 60_000, 60_000  # MNIST training digits and made marks it is fitted on, beside the pen digits
PEN_SEEDS, MARK_SEED = (11, 21, 22), 1000  # the drawings it is fitted on (benchmarks measure with other marks)
CANVAS_SEEDS = (12, 13)  # pen digits drawn as pendigits.as_canvas_drawings draws them, with these seeds
MIDDLE_SEEDS = (31, 32, 33, 34, 35, 36)  # and as people draw in the middle (drawn_in_the_middle), with these
WARP = 0.06  # drawn_in_the_middle's digits are bent by at most this share of their size (bent)
THICK = 0.1  # strokes are judged at least a tenth of the drawing's longer side wide (as MNIST's): see as_seen


def as_seen(image: np.ndarray) -> np.ndarray:
    """Any image canvas_to_mnist takes -> (28, 28) float32 in [0, 1], its strokes first widened to THICK of its size.

    A 6 px brush on a 200 px digit leaves hairlines, and the network took a thin 8's crossing loops for a scribble's
    (26% of writers 16-20's digits drawn so were called marks): drawn at one relative width, only the shape counts.
    """
    return seen_ink(ink_map(image))


def seen_ink(ink: np.ndarray, shape: Ink | None = None) -> np.ndarray:
    """`as_seen` for an ink map (preprocess.ink_map's), and its measures when the caller has them."""
    shape = shape or measure_ink(ink)
    grow = int(round(THICK * max(shape.height, shape.width) - shape.stroke))
    if grow > 1:
        ink = cv2.dilate(ink.astype(np.float32), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return normalise(ink)


def mark_problem(image: np.ndarray, path: Path = FILE) -> str | None:
    """NOT_A_DIGIT when the network takes the whole drawing (any image canvas_to_mnist takes) for a scribble or a
    sign, else None. Only for a whole drawing: the number reader's pieces are halves and strokes of digits it never
    saw. Without a usable network file the check is off (logged), and the page reads on as it did before it."""
    return ink_mark_problem(ink_map(image), path=path)


def ink_mark_problem(ink: np.ndarray, shape: Ink | None = None, path: Path = FILE) -> str | None:
    """`mark_problem` for a drawing's ink map, and its measures when the caller has them."""
    try:
        probability = mark_probability(seen_ink(ink, shape)[None], path)[0]
    except UNUSABLE as exc:
        log.warning("mnist-app: the not-a-digit check is off: %s", exc)
        return None
    return NOT_A_DIGIT if probability > MARK_ABOVE else None


def doubt(images: np.ndarray, path: Path = FILE) -> np.ndarray:
    """`mark_probability` of the number reader's candidates on a photo, as a doubt it weighs (search.Costs.doubt),
    never a verdict as on a whole drawing: half a digit or two digits touching look less like a digit to it. Zeros,
    logged, without a usable network file: the reader reads on as it did before it."""
    try:
        return mark_probability(images, path)
    except UNUSABLE as exc:
        log.warning("mnist-app: the not-a-digit doubt is off: %s", exc)
        return np.zeros(len(images))


LAYERS = ("InputLayer", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense", "Dense")


class Detector:
    """The fitted network, read from its .keras file and run in NumPy: the Draw page asks it after every stroke, and
    Keras would cost the page TensorFlow's import (seconds, on a fresh server's first drawing) and a call each stroke.
    The file's own architecture is checked against `network()`'s; its weights are read with h5py (no pickle)."""

    def __init__(self, path: Path):
        import h5py

        with zipfile.ZipFile(path) as archive:
            layers = json.loads(archive.read("config.json"))["config"]["layers"]
            if tuple(layer["class_name"] for layer in layers) != LAYERS:
                raise ValueError(f"{path} holds another network than network()'s: python train.py not-a-digit")
            with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
                self.weights = [
                    (
                        np.asarray(weights[f"layers/{name}/vars/0"], np.float32),
                        np.asarray(weights[f"layers/{name}/vars/1"], np.float32),
                    )
                    for name in (
                        layer["config"]["name"] for layer in layers if layer["class_name"] in ("Conv2D", "Dense")
                    )
                ]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n,) the probability of a mark (as the Keras network gives it)."""
        (k1, b1), (k2, b2), (w3, b3), (w4, b4) = self.weights
        x = _pooled(_convolved(np.asarray(images, np.float32)[..., None], k1, b1))
        x = _pooled(_convolved(x, k2, b2)).reshape(len(x), -1)  # flattened as Keras does: rows, columns, channels
        x = np.maximum(x @ w3 + b3, 0.0) @ w4 + b4
        return (1.0 / (1.0 + np.exp(-x))).reshape(-1)


def _convolved(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """A 'valid' 3x3 convolution of (n, h, w, c) by a (3, 3, c, f) kernel, then ReLU."""
    size, _, channels, filters = kernel.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))  # (n, h', w', c, 3, 3)
    columns = windows.transpose(0, 1, 2, 4, 5, 3).reshape(*windows.shape[:3], size * size * channels)
    return np.maximum(columns @ kernel.reshape(-1, filters) + bias, 0.0)


def _pooled(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling, stride 2, the odd last row and column left out ('valid')."""
    n, h, w, c = x.shape
    return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


@cache
def detector(path: Path = FILE) -> Detector:
    """The fitted network (one per process); FileNotFoundError naming the command that fits it."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is missing: python train.py not-a-digit writes it")
    return Detector(Path(path))


def mark_probability(images: np.ndarray, path: Path = FILE) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1], as `as_seen` gives -> (n,) the probability of a mark."""
    x, net = np.asarray(images, np.float32), detector(path)
    return np.concatenate([net(x[k : k + 1024]) for k in range(0, len(x), 1024)]).astype(np.float64)


def network():
    """The untrained CNN: 28x28 in, the probability of a mark out."""
    import keras

    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(24, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(48, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )


def fit(digits: np.ndarray, marks: np.ndarray, epochs: int = EPOCHS, batch: int = BATCH, seed: int = SEED):
    """The network taught (n, 28, 28) digits against (m, 28, 28) marks, shuffled; a tenth held aside to stop on."""
    import keras

    keras.utils.set_random_seed(seed)
    x = np.concatenate([digits, marks])[..., None].astype(np.float32)
    y = np.concatenate([np.full(len(digits), DIGIT), np.full(len(marks), MARK)]).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))
    net = network()
    net.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    net.fit(x[order], y[order], batch_size=batch, epochs=epochs, validation_split=0.1, verbose=2, callbacks=[stop])
    return net


def drawn_in_the_middle(digit, rng: np.random.Generator) -> np.ndarray:
    """A pen digit drawn as people draw on the canvas with the mouse: near the middle, 50-85% of it tall, brush
    10-30 px, slanted or squeezed, its points where pointer events land and a hand's tremor on them, any colour
    scheme, as Chromium's canvas renders it (RGBA)."""
    from mnist_app.data import pendigits

    brush, size = rng.uniform(10, 30), rng.uniform(0.5, 0.85)
    centre = tuple(0.5 + rng.uniform(-0.06, 0.06, 2))
    scheme = pendigits.SCHEMES[rng.integers(len(pendigits.SCHEMES))]
    shaped = pendigits.reshaped(digit, rng.uniform(-0.3, 0.3), float(np.exp(rng.uniform(-0.2, 0.2))))
    spacing, wobble = (2.0, rng.uniform(4, 16)), rng.uniform(0, 2.5)
    strokes = [
        pendigits.wobbled(pendigits.respaced(s, rng, spacing), rng, wobble)
        for s in bent(pendigits.canvas_strokes(shaped, size, centre), rng)
    ]
    return pendigits.render_strokes(strokes, brush, scheme, supersample=pendigits.CANVAS_SUPERSAMPLE)


def bent(strokes: list[np.ndarray], rng: np.random.Generator, most: float = WARP) -> list[np.ndarray]:
    """Strokes (canvas pixels) turned up to 12 degrees and bent by a smooth wave of at most `most` of their size: a
    loop a little bigger, a stem a little curved, as another writer's hand would make them."""
    points = np.concatenate(strokes)
    mid, size = (points.min(axis=0) + points.max(axis=0)) / 2, max(np.ptp(points, axis=0).max(), 1.0)
    a = rng.uniform(-0.21, 0.21)
    turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    wave, phase, amount = rng.uniform(0.5, 1.5, 2), rng.uniform(0, 2 * np.pi, 2), rng.uniform(0, most, 2) * size

    def bend(s: np.ndarray) -> np.ndarray:
        u = (s - mid) / size  # about -0.5..0.5
        return mid + (s - mid) @ turn.T + amount * np.sin(2 * np.pi * wave * u[:, ::-1] + phase)

    return [bend(s) for s in strokes]


def training_set(mnist_count: int, marks_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(digits, marks) as the network sees them: pen digits of writers 1-15, drawn eleven times as Chromium's canvas
    draws them (three with the training recipe's slants and brushes, two as the benchmarks draw, six in the middle as
    people draw), and MNIST's training digits; made marks."""
    from mnist_app.data import mnist, pendigits
    from mnist_app.reading import made_marks

    pen = [d for d in pendigits.select_writers(pendigits.load(), "tuning") if d.writer <= FITTED_WRITERS]
    faithful = pendigits.CANVAS_SUPERSAMPLE
    drawn = [as_seen(i) for seed in PEN_SEEDS for i in pendigits.as_varied_drawings(pen, seed, faithful)[0]]
    drawn += [as_seen(i) for seed in CANVAS_SEEDS for i in pendigits.as_canvas_drawings(pen, seed, faithful)[0]]
    middle = [
        as_seen(drawn_in_the_middle(d, np.random.default_rng((seed, k))))
        for seed in MIDDLE_SEEDS
        for k, d in enumerate(pen)
    ]
    written = [as_seen(image) for image in mnist.load_mnist().x_train[:mnist_count]]
    return np.stack([*drawn, *middle, *written]), made_marks.made(marks_count, MARK_SEED, as_seen)

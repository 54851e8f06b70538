"""Is a drawing a digit at all? A small network that has seen digits and marks that are none.

The models answer every drawing with a digit, and a scribble, a ? or a slanted + is often answered with a sure one
(issue 35: 22-57% of scribbles and ?s named as a sure digit). The ink rules of legibility.py catch what a few
measures can tell (a dot, a dash, an X); this catches the rest by what the drawing looks like as the models see it
(28x28): the project's own NumPy network (models/numpy_net.py, 784-128-10, two of its outputs used), taught pen
digits of writers 1-15 and MNIST's training digits against scribbles, zigzags, curls and the signs + x ? * = #
(made_marks.py), every drawing rendered as Chromium's canvas renders it (pendigits.CANVAS_SUPERSAMPLE: fitted on
pendigits' own 2x rendering, it called held-out 9s drawn with the mouse marks). Its threshold was chosen on writers
16-20, whom it never saw.

    python train.py not-a-digit    # fits it again (MNIST_DATA, PENDIGITS) and writes FILE
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np

from mnist_app.models import numpy_net
from mnist_app.models.loading import MODELS_DIR
from mnist_app.models.numpy_config import NumpyMLPConfig
from mnist_app.preprocess import ink_map, normalise
from mnist_app.reading.legibility import NOT_A_DIGIT, measure_ink

FILE = MODELS_DIR / "not-a-digit" / "model.npz"
DIGIT, MARK = 0, 1  # its two outputs in use
# A drawing it gives more than this probability of being a mark is no digit. Chosen (steps of 0.05) on writers 16-20,
# whom it never saw, for the page's safety: the lowest at which at most 0.2% of their digits that numpy-mlp reads right
# and sure, drawn as the browser tests draw them (brushes 10, 20, 30: benchmarks/canvas_drawings.py --offline --writers
# 16-20 --per-label 1000), are called marks: 5 of 3,658 (0.14%; 0.22% at 0.4, 0.60% at 0.3, 1.37% at 0.2), and none of
# the 89 drawn with the mouse in Chromium. It lets more scribbles through than 0.2 did: see docs/results.md.
MARK_ABOVE = 0.5
CONFIG = NumpyMLPConfig(
    hidden=128, optimizer="adam", learning_rate=0.001, batch_size=64, epochs=8, early_stopping=2, label="digit or not"
)
FITTED_WRITERS = 15  # pen writers 1-15; 16-20 chose MARK_ABOVE
MNIST_DIGITS, MARKS = 60_000, 40_000  # MNIST training digits and made marks it is fitted on, beside the pen digits
PEN_SEEDS, MARK_SEED = (11, 21, 22), 1000  # the drawings it is fitted on (benchmarks measure with other marks)
CANVAS_SEEDS = (12, 13)  # pen digits drawn as pendigits.as_canvas_drawings draws them, with these seeds
THICK = 0.1  # strokes are judged at least a tenth of the drawing's longer side wide (as MNIST's): see as_seen


def as_seen(image: np.ndarray) -> np.ndarray:
    """Any image canvas_to_mnist takes -> (28, 28) float32 in [0, 1], its strokes first widened to THICK of its size.

    A 6 px brush on a 200 px digit leaves hairlines, and the network took a thin 8's crossing loops for a scribble's
    (26% of writers 16-20's digits drawn so were called marks): drawn at one relative width, only the shape counts.
    """
    ink = ink_map(image)
    shape = measure_ink(ink)
    grow = int(round(THICK * max(shape.height, shape.width) - shape.stroke))
    if grow > 1:
        ink = cv2.dilate(ink.astype(np.float32), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return normalise(ink)


def mark_problem(image: np.ndarray, path: Path = FILE) -> str | None:
    """NOT_A_DIGIT when the network takes the whole drawing (any image canvas_to_mnist takes) for a scribble or a
    sign, else None. Only for a whole drawing: the number reader's pieces are halves and strokes of digits it never
    saw."""
    return NOT_A_DIGIT if mark_probability(as_seen(image)[None], path)[0] > MARK_ABOVE else None


@cache
def detector(path: Path = FILE) -> numpy_net.NumpyMLP:
    """The fitted network (one per process); FileNotFoundError naming the command that fits it."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is missing: python train.py not-a-digit writes it")
    return numpy_net.NumpyMLP.load(path)


def mark_probability(images: np.ndarray, path: Path = FILE) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1], as `as_seen` gives -> (n,) the probability of a mark."""
    probs = detector(path).predict_proba(np.asarray(images, np.float32))
    return probs[:, MARK] / (probs[:, MARK] + probs[:, DIGIT])


def fit(digits: np.ndarray, marks: np.ndarray, config: NumpyMLPConfig = CONFIG) -> numpy_net.NumpyMLP:
    """The network taught (n, 28, 28) digits against (m, 28, 28) marks; a tenth of each held aside for its history."""
    x = np.concatenate([digits, marks]).astype(np.float32)
    y = np.concatenate([np.full(len(digits), DIGIT), np.full(len(marks), MARK)])
    order = np.random.default_rng(config.seed).permutation(len(x))
    val = order[: len(x) // 10]
    network, _ = numpy_net.train(config, x[order[len(val) :]], y[order[len(val) :]], x[val], y[val])
    return network


def training_set(mnist_count: int, marks_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(digits, marks) as the models see them: pen digits of writers 1-15, drawn five times as Chromium's canvas draws
    them (three with the training recipe's slants and brushes, two as the benchmarks draw), and MNIST's training
    digits; made marks."""
    from mnist_app.data import mnist, pendigits
    from mnist_app.reading import made_marks

    pen = [d for d in pendigits.select_writers(pendigits.load(), "tuning") if d.writer <= FITTED_WRITERS]
    faithful = pendigits.CANVAS_SUPERSAMPLE
    drawn = [as_seen(i) for seed in PEN_SEEDS for i in pendigits.as_varied_drawings(pen, seed, faithful)[0]]
    drawn += [as_seen(i) for seed in CANVAS_SEEDS for i in pendigits.as_canvas_drawings(pen, seed, faithful)[0]]
    written = [as_seen(image) for image in mnist.load_mnist().x_train[:mnist_count]]
    return np.stack([*drawn, *written]), made_marks.made(marks_count, MARK_SEED, as_seen)

"""Is a drawing a digit at all? A small network that has seen digits and marks that are none.

The models answer every drawing with a digit, and a scribble, a ? or a slanted + is often answered with a sure one
(issue 35: 22-57% of scribbles and ?s named as a sure digit). The ink rules of legibility.py catch what a few
measures can tell (a dot, a dash, an X); this catches the rest by what the drawing looks like as the models see it
(28x28): a small Keras CNN (two 3x3 convolutions, 16 and 32 filters, a 64-unit layer, one sigmoid output), taught
pen digits of writers 1-15 and MNIST's training digits against scribbles, zigzags, curls and the signs + x ? * = #
(made_marks.py), every drawing rendered as Chromium's canvas renders it (pendigits.CANVAS_SUPERSAMPLE: fitted on
pendigits' own 2x rendering, an earlier network called held-out 9s drawn with the mouse marks). The NumPy MLP it
replaces (784-128, the same drawings) let 15% of the tuning scribbles through at the threshold that spared writers
16-20's digits; this one 4% (docs/results.md). Its threshold was chosen on writers 16-20, whom it never saw. Not on the
Draw page: in Chromium it calls a held-out 9 a mark (docs/results.md).

    python train.py not-a-digit    # fits it again (MNIST_DATA, PENDIGITS) and writes FILE
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np

from mnist_app.models.loading import MODELS_DIR
from mnist_app.preprocess import ink_map, normalise
from mnist_app.reading.legibility import NOT_A_DIGIT, measure_ink

FILE = MODELS_DIR / "not-a-digit" / "model.keras"
DIGIT, MARK = 0, 1  # its target: the probability it gives is that of MARK
# A drawing it gives more than this probability of being a mark is no digit. Chosen (steps of 0.05) on writers 16-20,
# whom it never saw, for the page's safety: the lowest at which at most 0.2% of their digits that numpy-mlp reads right
# and sure, drawn as the browser tests draw them (brushes 10, 20, 30: benchmarks/canvas_drawings.py --offline --writers
# 16-20 --per-label 1000), are called marks: 5 of 3,658 (0.14%; 0.22% at 0.55, 0.33% at 0.5); the highest it gives
# any of the 90 drawn with the mouse in Chromium is 0.02. There 4% of the tuning scribbles are named as a sure digit.
MARK_ABOVE = 0.6
EPOCHS, BATCH, SEED = 6, 128, 0  # Adam; a tenth held aside, stopped when its loss rises, the best epoch kept
FITTED_WRITERS = 15  # pen writers 1-15; 16-20 chose MARK_ABOVE
MNIST_DIGITS, MARKS = 60_000, 40_000  # MNIST training digits and made marks it is fitted on, beside the pen digits
PEN_SEEDS, MARK_SEED = (11, 21, 22), 1000  # the drawings it is fitted on (benchmarks measure with other marks)
CANVAS_SEEDS = (12, 13)  # pen digits drawn as pendigits.as_canvas_drawings draws them, with these seeds
MIDDLE_SEEDS = (31, 32)  # and as people draw in the middle of the canvas (drawn_in_the_middle), with these
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
def detector(path: Path = FILE):
    """The fitted network (one per process); FileNotFoundError naming the command that fits it."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is missing: python train.py not-a-digit writes it")
    import keras  # only when a drawing is judged: importing TensorFlow takes seconds

    return keras.saving.load_model(path)


def mark_probability(images: np.ndarray, path: Path = FILE) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1], as `as_seen` gives -> (n,) the probability of a mark."""
    x, net = np.asarray(images, np.float32)[..., None], detector(path)
    chunks = [np.asarray(net(x[k : k + 1024], training=False)) for k in range(0, len(x), 1024)]  # not predict's 50 ms
    return np.concatenate(chunks).astype(np.float64).reshape(-1)


def network():
    """The untrained CNN: 28x28 in, the probability of a mark out."""
    import keras

    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
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
    stop = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    net.fit(x[order], y[order], batch_size=batch, epochs=epochs, validation_split=0.1, verbose=2, callbacks=[stop])
    return net


def drawn_in_the_middle(digit, rng: np.random.Generator) -> np.ndarray:
    """A pen digit drawn as people draw on the canvas: near the middle, 55-80% of it tall, brush 10-30 px, a little
    slanted or squeezed, any colour scheme, as Chromium's canvas renders it (RGBA)."""
    from mnist_app.data import pendigits

    brush, size = rng.uniform(10, 30), rng.uniform(0.55, 0.8)
    centre = tuple(0.5 + rng.uniform(-0.06, 0.06, 2))
    scheme = pendigits.SCHEMES[rng.integers(len(pendigits.SCHEMES))]
    shaped = pendigits.reshaped(digit, rng.uniform(-0.25, 0.25), float(np.exp(rng.uniform(-0.15, 0.15))))
    return pendigits.render(shaped, brush, size, centre, scheme, supersample=pendigits.CANVAS_SUPERSAMPLE)


def training_set(mnist_count: int, marks_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(digits, marks) as the network sees them: pen digits of writers 1-15, drawn seven times as Chromium's canvas
    draws them (three with the training recipe's slants and brushes, two as the benchmarks draw, two in the middle as
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

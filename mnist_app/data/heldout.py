"""Pen writers' digits drawn as benchmarks/drawn_digits.py draws them. The held-out writers' (21-30) measure a
model trained in the app beside the shipped ones, on the same drawings: only ever read, never trained or chosen
on. The tuning writers' (1-20) are for choosing (benchmarks/personal.py chooses on 16-20).

Rendering takes seconds, so the preprocessed digits are cached outside the repository (an .npz of arrays,
no pickle), keyed by the pen data file and the recipe.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from mnist_app.artifacts import atomic_path
from mnist_app.contract import in_chunks
from mnist_app.data import pendigits
from mnist_app.data.pen_training import default_cache
from mnist_app.preprocess import canvas_to_mnist

SEED = 0  # benchmarks/drawn_digits.py's default: the published drawn-digit numbers are of these drawings
RECIPE_VERSION = 1  # bump when pendigits.as_canvas_drawings changes


def drawn_digits(path: str | Path | None = None, cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 28, 28) float32 in [0, 1], labels (n,)) of writers 21-30, from the cache when there."""
    images, labels, _ = drawn_by("heldout", path, cache)
    return images, labels


def drawn_by(which: str, path: str | Path | None = None, cache: Path | None = None) -> tuple[np.ndarray, ...]:
    """(images, labels, writers) of the 'heldout' (21-30) or 'tuning' (1-20) writers, in the pen file's order."""
    path = Path(path or pendigits.default_path())
    spec = f"{hashlib.sha256(path.read_bytes()).hexdigest()}-{which}-{SEED}-{RECIPE_VERSION}"
    file = Path(cache or default_cache()) / f"drawn-{which}-{hashlib.sha256(spec.encode()).hexdigest()[:20]}.npz"
    if file.is_file():
        with np.load(file, allow_pickle=False) as npz:
            return npz["images"], npz["labels"], npz["writers"]
    digits = pendigits.select_writers(pendigits.load(path), which)
    drawings, labels, _ = pendigits.as_canvas_drawings(digits, SEED)
    images = np.stack([canvas_to_mnist(d) for d in drawings]).astype(np.float32)
    writers = np.array([d.writer for d in digits], dtype=np.int64)
    with atomic_path(file) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, images=images, labels=labels.astype(np.int64), writers=writers)
    return images, labels.astype(np.int64), writers


def accuracy(predict_proba, path: str | Path | None = None, cache: Path | None = None) -> dict:
    """A model's accuracy on the held-out drawings: {'accuracy', 'n_digits'}."""
    images, labels = drawn_digits(path, cache)
    predicted = in_chunks(predict_proba, images, 512).argmax(axis=1)
    return {"accuracy": float(np.mean(predicted == labels)), "n_digits": int(len(labels))}

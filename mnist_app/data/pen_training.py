"""Pen-written digits of the trainable writers (1-20), drawn as on the canvas and read as the app reads them.

`drawings` renders each digit `variants` times with fresh random settings (pendigits.varied_drawing),
then sends every drawing through the app's own `canvas_to_mnist`: the models train on exactly what the
Draw page would hand them. Rendering takes minutes, so `cached_drawings` keeps the result in a cache
folder outside the repository (an .npz of arrays, no pickle), keyed by everything that shapes it.
Held-out writers (21-30) are refused with ValueError, whatever the caller asks.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from mnist_app.artifacts import atomic_path
from mnist_app.data import pendigits
from mnist_app.preprocess import canvas_to_mnist

RENDER_VERSION = 1  # bump when the drawing recipe changes: cached drawings of an older recipe are not reused
CHUNK = 250


def default_cache() -> Path:
    """$MNIST_APP_CACHE, else ~/.cache/mnist-app."""
    return Path(os.environ.get("MNIST_APP_CACHE", Path.home() / ".cache" / "mnist-app"))


def drawings(
    digits: list[pendigits.PenDigit], writers, variants: int, seed: int, workers: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images (n, 28, 28) float32 in [0, 1], labels (n,), writer ids (n,)) of the writers' digits, each drawn
    `variants` times. ValueError if a writer is held out. Deterministic for a seed, whatever the workers."""
    allowed = pendigits.check_trainable(writers)
    chosen = [(i, d) for i, d in enumerate(digits) if d.writer in allowed]
    jobs = [(i, d, v) for v in range(variants) for i, d in chosen]
    chunks = [(jobs[k : k + CHUNK], seed) for k in range(0, len(jobs), CHUNK)]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(chunks) == 1:
        images = [_draw_chunk(*chunk) for chunk in chunks]
    else:  # spawn, not fork: the caller may hold TensorFlow state
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            images = list(pool.map(_draw_chunk, *zip(*chunks, strict=True)))
    labels = np.array([d.label for _, d, _ in jobs], dtype=np.int64)
    writer_ids = np.array([d.writer for _, d, _ in jobs], dtype=np.int64)
    stacked = np.concatenate(images) if images else np.zeros((0, 28, 28), np.float32)
    return stacked, labels, writer_ids


def _draw_chunk(jobs: list, seed: int) -> np.ndarray:
    """Draw and preprocess one chunk; each drawing seeded by (seed, digit index, variant)."""
    out = [canvas_to_mnist(pendigits.varied_drawing(d, np.random.default_rng((seed, i, v)))[0]) for i, d, v in jobs]
    return np.stack(out).astype(np.float32)


def cache_key(path: Path, writers, variants: int, seed: int) -> str:
    """Names the data file, the writers, the number of variants, the seed and the recipe."""
    data = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    spec = f"{data}-{sorted(writers)}-{variants}-{seed}-{RENDER_VERSION}"
    return hashlib.sha256(spec.encode()).hexdigest()[:20]


def cached_drawings(
    writers, variants: int, seed: int, path: str | Path | None = None, cache: Path | None = None, workers: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`drawings` of the pen data file at `path`, from the cache when there, else drawn (by `workers` processes,
    default one per core) and cached."""
    pendigits.check_trainable(writers)
    path = Path(path or pendigits.default_path())
    file = Path(cache or default_cache()) / f"pen-drawings-{cache_key(path, writers, variants, seed)}.npz"
    if file.is_file():
        with np.load(file, allow_pickle=False) as npz:
            images, labels, writer_ids = npz["images"], npz["labels"], npz["writers"]
        pendigits.check_trainable(set(writer_ids.tolist()))  # a tampered cache still cannot smuggle one in
        return images.astype(np.float32) / 255, labels, writer_ids
    images, labels, writer_ids = drawings(pendigits.load(path), writers, variants, seed, workers)
    with atomic_path(file) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, images=np.round(images * 255).astype(np.uint8), labels=labels, writers=writer_ids)
    return np.round(images * 255).astype(np.float32) / 255, labels, writer_ids  # the same values as a cache hit


def describe(writers, variants: int) -> str:
    """The pen drawings in words, for a model's report."""
    writers = sorted(writers)
    return (
        f"pen digits (UCI pendigits) of writers {writers[0]}-{writers[-1]}, each drawn {variants} times as on the "
        f"canvas (brush {pendigits.BRUSH_RANGE[0]:g}-{pendigits.BRUSH_RANGE[1]:g} px, slant, aspect, size, position, "
        "three colour schemes, hand wobble, uneven point spacing, stroke order) and read through canvas_to_mnist"
    )


TRAINING_WRITERS = tuple(sorted(pendigits.TUNING_WRITERS))  # the shipped models' pen writers: every trainable one
TRAINING_VARIANTS = 6  # drawings of each of their digits
# A shipped model's recipe and calibration are chosen through its tuning twin: the same recipe trained on writers
# 1-15 only (models/tuning/), so that writers 16-20 stay unseen to choose on and to fit its calibration on.
TWIN_WRITERS = tuple(range(1, 16))
CALIBRATION_WRITERS = tuple(w for w in TRAINING_WRITERS if w not in TWIN_WRITERS)  # 16-20

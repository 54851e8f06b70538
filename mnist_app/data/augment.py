"""Random distortions of MNIST digits, so models meet the variety of drawn digits in training.

Drawings differ from MNIST's scans in slant, proportions, stroke width and wobble; each
distortion below imitates one of those. All functions take and return float32 (n, 28, 28)
in [0, 1] and draw their randomness from the generator they are given (deterministic for a seed).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from mnist_app.data import pen_training
from mnist_app.data.handwriting import restyle
from mnist_app.preprocess import FIELD, INK_THRESHOLD, EmptyCanvasError, normalise


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each distortion; a value of 0 turns that distortion off."""

    rotation_deg: float = 12.0
    shear: float = 0.3  # horizontal shear factor, for slanted writing
    scale: float = 0.12  # +- relative change of width and height, independently
    elastic_alpha: float = 2.0  # pixels of wobble (Simard et al.'s elastic distortion)
    elastic_sigma: float = 4.0  # pixels between the wobble's independent points
    stroke_change: float = 0.5  # probability of a thicker or thinner stroke
    renormalise: bool = True  # re-fit to the 20x20 box and re-centre, as the app's preprocessing does
    restyle: float = 0.0  # probability of redrawing a 1, 7 or 9 in its other style (handwriting.py; needs labels)


def smooth_noise(rng: np.random.Generator, batch: tuple[int, ...], spacing: float) -> np.ndarray:
    """(*batch, 28, 28) smooth random field: noise at knots `spacing` pixels apart, blended by Gaussians.

    The same kind of field as blurring per-pixel noise, at a fraction of the cost.
    """
    knots = np.arange(-spacing, FIELD + spacing, spacing)
    weights = np.exp(-0.5 * ((np.arange(FIELD)[:, None] - knots[None, :]) / spacing) ** 2)
    weights /= weights.sum(axis=1, keepdims=True)
    noise = rng.uniform(-1, 1, (*batch, len(knots), len(knots)))
    return np.einsum("ik,...kl,jl->...ij", weights, noise, weights, optimize=True)


def random_warp(images: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """One affine map (rotation, shear, scale) plus a smooth elastic field per image, in one resampling."""
    from scipy import ndimage  # here, not at the top: every page imports this module (0.3 s) and none warps a digit

    n = len(images)
    angle = np.deg2rad(rng.uniform(-config.rotation_deg, config.rotation_deg, n))
    shear = rng.uniform(-config.shear, config.shear, n)
    sy, sx = (1 + rng.uniform(-config.scale, config.scale, (2, n))).astype(np.float64)
    cos, sin = np.cos(angle), np.sin(angle)
    # inverse map (output -> input coordinates) of rotate(scale(shear(.))) around the image centre
    a = np.stack(
        [np.stack([cos / sy, -sin / sy + shear * cos / sy]), np.stack([sin / sx, cos / sx + shear * sin / sx])]
    )
    rows, cols = np.indices((FIELD, FIELD), dtype=np.float64) - (FIELD - 1) / 2
    src_r = a[0, 0][:, None, None] * rows + a[0, 1][:, None, None] * cols
    src_c = a[1, 0][:, None, None] * rows + a[1, 1][:, None, None] * cols
    if config.elastic_alpha > 0:
        field = smooth_noise(rng, (2, n), config.elastic_sigma)
        field *= config.elastic_alpha / (np.abs(field).max(axis=(2, 3), keepdims=True) + 1e-9)
        src_r, src_c = src_r + field[0], src_c + field[1]
    index = np.broadcast_to(np.arange(n, dtype=np.float64)[:, None, None], src_r.shape)
    coords = np.stack([index, src_r + (FIELD - 1) / 2, src_c + (FIELD - 1) / 2])
    return ndimage.map_coordinates(images, coords, order=1, mode="constant").astype(np.float32)


def random_stroke_width(images: np.ndarray, rng: np.random.Generator, probability: float) -> np.ndarray:
    """Thicken (grey dilation) or thin (grey erosion) a random share of the digits by about a pixel."""
    from scipy import ndimage

    out = images.copy()
    choice = rng.uniform(size=len(images))
    thick = choice < probability / 2
    thin = (choice >= probability / 2) & (choice < probability)
    if thick.any():
        out[thick] = ndimage.grey_dilation(images[thick], footprint=np.ones((1, 2, 2), dtype=bool))
    if thin.any():
        eroded = ndimage.grey_erosion(images[thin], footprint=np.ones((1, 2, 2), dtype=bool))
        keep = eroded.reshape(len(eroded), -1).max(axis=1) > 0.5  # never erase a thin digit entirely
        out[np.flatnonzero(thin)[keep]] = eroded[keep]
    return out


def renormalise(images: np.ndarray) -> np.ndarray:
    """Re-fit each digit to the 20x20 box and centre its mass, exactly as canvas_to_mnist does."""
    out = np.zeros_like(images)
    for i, image in enumerate(images):
        try:
            out[i] = normalise(image)
        except EmptyCanvasError:
            pass  # distorted out of the frame: leave it blank rather than fail the batch
    return out


def augment(
    images: np.ndarray,
    rng: np.random.Generator,
    config: AugmentConfig = AugmentConfig(),
    labels: np.ndarray | None = None,
) -> np.ndarray:
    """A distorted copy of `images`, float32 (n, 28, 28) in [0, 1]; restyling needs their `labels`."""
    images = images.astype(np.float32)
    if config.restyle > 0:
        if labels is None:
            raise ValueError("restyling 1s, 7s and 9s needs the digits' labels")
        images = restyle(images, labels, rng, config.restyle)
    out = np.clip(random_warp(images, rng, config), 0.0, 1.0)
    if config.stroke_change > 0:
        out = random_stroke_width(out, rng, config.stroke_change)
    return renormalise(out) if config.renormalise else out


def erase_ink(images: np.ndarray, rng: np.random.Generator, share: float, most: float = 0.4) -> np.ndarray:
    """A copy in which a random `share` of the digits each lose a random part (up to `most`) of their ink pixels.

    Why: explanations are checked by erasing ink (benchmarks/explain.py). A network that never saw a broken
    stroke reads one as something new, so erasing any ink shakes it and the test cannot tell important pixels
    from unimportant ones; trained on broken strokes, it falls only when the ink that mattered goes
    (Hooker et al., "A benchmark for interpretability methods", 2019, retrain for the same reason).
    """
    if not 0.0 <= share <= 1.0 or not 0.0 <= most <= 1.0:
        raise ValueError(f"share and most are probabilities, got {share} and {most}")
    chosen = rng.random(len(images)) < share
    part = np.where(chosen, rng.uniform(0.0, most, len(images)), 0.0).astype(np.float32)
    erased = (images >= INK_THRESHOLD) & (rng.random(images.shape, dtype=np.float32) < part[:, None, None])
    return np.where(erased, np.float32(0.0), images).astype(images.dtype, copy=False)


CHUNK = 2048  # digits per task; the seed of a chunk depends on its position only, not on the worker count


def _augment_chunk(
    images: np.ndarray, labels: np.ndarray | None, seed: tuple[int, ...], config: AugmentConfig
) -> np.ndarray:
    return augment(images, np.random.default_rng(seed), config, labels)


class EpochAugmenter:
    """A distorted copy of the training digits per epoch, made in worker processes one epoch ahead.

    Deterministic for a seed, whatever the number of workers. Call with the epoch number.
    """

    def __init__(
        self,
        images: np.ndarray,
        seed: int,
        config: AugmentConfig = AugmentConfig(),
        workers: int = 0,
        labels: np.ndarray | None = None,
    ):
        self.images, self.labels, self.seed, self.config = images, labels, seed, config
        workers = workers or os.cpu_count() or 1
        # spawn, not fork: the trainer may hold TensorFlow or JAX state that must not be copied
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        self.pending: dict[int, list[Future]] = {}

    def _submit(self, epoch: int) -> None:
        if epoch not in self.pending:
            self.pending[epoch] = [
                self.pool.submit(
                    _augment_chunk,
                    self.images[i : i + CHUNK],
                    None if self.labels is None else self.labels[i : i + CHUNK],
                    (self.seed, epoch, i),
                    self.config,
                )
                for i in range(0, len(self.images), CHUNK)
            ]

    def __call__(self, epoch: int) -> np.ndarray:
        self._submit(epoch)
        self._submit(epoch + 1)  # start the next epoch's work while this one trains
        return np.concatenate([future.result() for future in self.pending.pop(epoch)])

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def describe_training(
    augmented: bool,
    restyle: float = 0.0,
    start_from: str = "",
    pen_writers: tuple[int, ...] = (),
    pen_variants: int = 0,
    erase_ink: float = 0.0,
) -> str:
    """What a model was trained on, in words, for its report and the Diagnostics page."""
    words = "MNIST training digits"
    if augmented:
        words += ", randomly distorted each epoch"
        if restyle:
            words += f"; {restyle:.0%} of the 1s, 7s and 9s redrawn as flagged 1s, crossed 7s, hooked 9s"
    if pen_variants:
        words += f"; {pen_training.describe(pen_writers, pen_variants)}"
    if erase_ink:
        words += f"; {erase_ink:.0%} of the digits with part of their ink erased, afresh every batch"
    return words + (f"; starting from the trained {start_from}" if start_from else "")


@contextmanager
def epoch_augmenter(images: np.ndarray, labels: np.ndarray, config) -> Iterator[EpochAugmenter | None]:
    """Each epoch's distorted training digits when the model's config asks for augmentation, else None.

    `config` is any model config with `augment`, `restyle` and `seed`; the worker processes stop afterwards.
    """
    if not config.augment:
        yield None
        return
    augmenter = EpochAugmenter(images, config.seed, AugmentConfig(restyle=config.restyle), labels=labels)
    try:
        yield augmenter
    finally:
        augmenter.close()

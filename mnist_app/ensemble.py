"""An ensemble: trained models reading the digit several ways, their probabilities averaged.

Each member reads the digit as drawn and turned by a few degrees each way (test-time
augmentation, within the ±12 degrees the augmented models were trained with). Averaging over
views and models evens out a single reading's quirks (README, Results, has the measurements).
The ensemble trains nothing of its own: `ensemble.json` names its members, which load from the
same models folder, and its rotations.
This module never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from .artifacts import read_json, write_json

FORMAT_VERSION = 1
CHUNK = 500  # digits per call: a whole test set's views at once would not fit in memory
MAX_ROTATION = 30  # degrees: a view of the same digit, about as slanted as MNIST's writers wrote


class Predictor(Protocol):
    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class EnsembleConfig:
    """Which models an ensemble averages, and at which rotations; saved as its `ensemble.json`."""

    members: tuple[str, ...]
    rotations: tuple[float, ...] = (0.0,)  # degrees, counter-clockwise; 0 is the digit as drawn
    description: str = ""

    def __post_init__(self) -> None:
        members, rotations = tuple(self.members), tuple(float(r) for r in self.rotations)
        object.__setattr__(self, "members", members)  # JSON lists become the tuples they were
        object.__setattr__(self, "rotations", rotations)
        if len(set(members)) != len(members):
            raise ValueError(f"an ensemble's members must be different models, got {members}")
        if len(members) * len(rotations) < 2:
            raise ValueError(
                f"an ensemble needs two or more readings (members x rotations), got {members}, {rotations}"
            )
        if any(not isinstance(m, str) or m.startswith("ensemble") for m in members):
            raise ValueError(f"members are model names, and not ensembles themselves: {members}")
        if len(set(rotations)) != len(rotations) or any(abs(r) > MAX_ROTATION for r in rotations):
            raise ValueError(f"rotations must differ and lie within ±{MAX_ROTATION} degrees, got {rotations}")


PRESETS = {
    # chosen on pen-digit writers 16-20, which no member trained on (benchmarks/ensemble_choice.py; README, Results)
    "ensemble": EnsembleConfig(
        members=("keras-cnn", "keras-mlp"),
        rotations=(0.0, -4.0, 4.0),
        description="keras-cnn and keras-mlp, each reading the digit upright and turned 4 degrees each way, averaged",
    ),
}


def rotated(images: np.ndarray, degrees: float) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1], each turned counter-clockwise about its centre (bilinear)."""
    if degrees == 0:
        return images
    turn = [Image.fromarray(image, mode="F").rotate(degrees, resample=Image.Resampling.BILINEAR) for image in images]
    return np.clip(np.stack([np.asarray(t) for t in turn]), 0.0, 1.0).astype(np.float32)


class Ensemble:
    """Several readings behind the shared model contract (`predict_proba`)."""

    def __init__(self, members: Sequence[Predictor], rotations: Sequence[float] = (0.0,)):
        self.members, self.rotations = list(members), tuple(rotations)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10): the mean over members and rotations."""
        return np.concatenate([self._mean(images[i : i + CHUNK]) for i in range(0, len(images), CHUNK)])

    def _mean(self, images: np.ndarray) -> np.ndarray:
        n = len(images)
        views = np.concatenate([rotated(images, r) for r in self.rotations])  # every view in one call per member
        readings = [np.asarray(m.predict_proba(views), dtype=np.float64).reshape(-1, n, 10) for m in self.members]
        return np.concatenate(readings).mean(axis=0)


def save_config(config: EnsembleConfig, path: str | Path) -> None:
    """Write `ensemble.json`, atomically."""
    write_json(path, {"format_version": FORMAT_VERSION, "config": asdict(config)})


def load_config(path: str | Path) -> EnsembleConfig:
    """Read a file written by `save_config`; ValueError if it is not one."""
    meta = read_json(path)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {meta.get('format_version')}, expected {FORMAT_VERSION}")
    try:
        return EnsembleConfig(**meta["config"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not an ensemble config ({exc})") from exc

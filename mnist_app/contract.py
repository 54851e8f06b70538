"""The contract every model kind honours, so that pages, benchmarks and train.py never ask which kind it is.

A network answers `predict_proba((n, 28, 28) float32 in [0, 1]) -> (n, 10)` and saves itself with
`save(path)`; its training history has the same four per-epoch lists. This module imports nothing heavy.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


class Predictor(Protocol):
    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...


class Network(Predictor, Protocol):
    def save(self, path: str | Path) -> None: ...


def zip_looks_whole(path: Path, present: Callable[[str], bool] | None = None) -> bool:
    """.npz and .keras files are zip archives: a cheap check, without loading them, that one is not truncated."""
    return zipfile.is_zipfile(path)


def empty_history() -> dict[str, list[float]]:
    """A history with no epochs yet (and none at all for a model that trains nothing itself)."""
    return {key: [] for key in HISTORY_KEYS}


def in_chunks(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray, size: int = 1000) -> np.ndarray:
    """`predict` over `images` `size` at a time, concatenated: memory stays bounded for a whole test set."""
    return np.concatenate([np.asarray(predict(images[i : i + size])) for i in range(0, len(images), size)])


def validate_images(images: np.ndarray) -> np.ndarray:
    """Check the model contract's input: (n, 28, 28), finite, in [0, 1]; ValueError otherwise."""
    if images is None:
        raise ValueError("images is None: expected an (n, 28, 28) float array in [0, 1]")
    array = np.asarray(images)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"images must be numbers, got dtype {array.dtype}")
    if array.ndim != 3 or array.shape[1:] != (28, 28) or array.shape[0] < 1:
        raise ValueError(f"images must have shape (n, 28, 28) with n >= 1, got {array.shape}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError("images contain NaN or infinite values")
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(f"pixel values must lie in [0, 1] (divide uint8 by 255), got {array.min()}..{array.max()}")
    return array


class TrainingListener:
    """Hears a training run, the same way from every kind: the NumPy trainer calls it directly, Keras through a
    callback (keras_training.Listening). The default hears nothing and never stops.

    `on_batch` follows every batch with the epoch's running mean loss and accuracy; `on_epoch` follows every
    epoch with its history row (HISTORY_KEYS). When `stop_requested()` turns true, the trainer ends the run
    after the current batch and returns the last finished epoch's network (the best epoch's, with early stopping).
    """

    def on_batch(self, epoch: int, done: int, batches: int, loss: float, accuracy: float) -> None:
        pass

    def on_epoch(self, epoch: int, scores: dict[str, float]) -> None:
        pass

    def stop_requested(self) -> bool:
        return False


class ExplainError(Exception):
    """This model cannot be explained this way; the message says why (its reading still works)."""


def called(model) -> str:
    """What a message calls a model: a loaded model's label, else its network's class."""
    return getattr(model, "label", type(getattr(model, "network", model)).__name__)


def explainable(model):
    """The network behind `model` (a loaded model's, or the model itself, as an ensemble holds its members), which
    has an input gradient; ExplainError otherwise. Its readings still work: only the explanation is refused."""
    network = getattr(model, "network", model)
    if not hasattr(network, "input_gradient"):
        raise ExplainError(f"{called(model)} has no input gradient, so its readings cannot be explained")
    return network


LoadModel = Callable[[str], Predictor]  # loads another model by name: an ensemble's members, a fine-tune's start


@dataclass(frozen=True)
class TrainingData:
    """A training run's digits: float32 (n, 28, 28) in [0, 1] and int labels; validation is carved from training."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

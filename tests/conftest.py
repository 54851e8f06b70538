"""Shared fixtures: a real-MNIST sample shipped in tests/data, and the full data where MNIST_DATA points."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnist_app.data import Mnist, load_npz

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Path(__file__).resolve().parent / "data" / "mnist_sample.npz"


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing here; in CI (CI=true) a missing prerequisite is a failure."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist_sample() -> Mnist:
    """5,000 training and 1,000 test digits of the real MNIST."""
    return load_npz(SAMPLE)


@pytest.fixture(scope="session")
def full_mnist() -> Mnist:
    require(bool(os.environ.get("MNIST_DATA")), "MNIST_DATA is not set (point it at ../shared/mnist)")
    from mnist_app.data import load_mnist

    return load_mnist()


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """A writable copy of the shipped models folder (weights and reports)."""
    from mnist_app.models import MODELS_DIR

    shutil.copytree(MODELS_DIR, tmp_path / "models")
    return tmp_path / "models"


def draw_blob(shape=(280, 280), rows=slice(100, 180), cols=slice(120, 140)) -> np.ndarray:
    """A white-on-black grey image with one filled rectangle of ink."""
    image = np.zeros(shape, dtype=np.uint8)
    image[rows, cols] = 255
    return image


PEN_DIGIT = """.SEGMENT DIGIT    {n} ? "{label}"
.COMMENT {label} {writer}  {n}
.PEN_DOWN
 100  400
 400  400
 200  100
.PEN_UP
"""


def tiny_pen_file(folder: Path, writers=range(1, 31)) -> Path:
    """A UNIPEN file of two pen digits (a 7-like stroke) per writer: pen-digit runs in seconds."""
    text = "".join(PEN_DIGIT.format(n=2 * w + k, label=(w + k) % 10, writer=w) for w in writers for k in (0, 1))
    path = Path(folder) / "pen.tra"
    path.write_text(text)
    return path


def tiny_pen_env(folder: Path) -> dict[str, str]:
    """Environment that points train.py at a tiny pen-digit file and a private drawing cache."""
    return {"PENDIGITS": str(tiny_pen_file(folder)), "MNIST_APP_CACHE": str(Path(folder) / "cache")}

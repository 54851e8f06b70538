"""An ensemble: trained models reading the digit several ways, their probabilities averaged.

Each member reads the digit as drawn and turned by a few degrees each way (test-time
augmentation, within the ±12 degrees the augmented models were trained with). Averaging over
views and models evens out a single reading's quirks (README, Results, has the measurements).
The ensemble trains nothing of its own: `ensemble.json` names its members, which load from the
same models folder, and its rotations.
This module never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from mnist_app.artifacts import read_json, write_json
from mnist_app.contract import ExplainError, LoadModel, Predictor, TrainingData, empty_history, explainable, in_chunks

FORMAT_VERSION = 1
CHUNK = 500  # digits per call: a whole test set's views at once would not fit in memory
MAX_ROTATION = 30  # degrees: a view of the same digit, about as slanted as MNIST's writers wrote


@dataclass(frozen=True)
class EnsembleConfig:
    """Which models an ensemble averages, and at which rotations; saved as its `ensemble.json`."""

    kind: ClassVar[str] = "ensemble"
    trains_itself: ClassVar[bool] = False

    members: tuple[str, ...]
    rotations: tuple[float, ...] = (0.0,)  # degrees, counter-clockwise; 0 is the digit as drawn
    description: str = ""
    label: str = ""  # what the app calls the model

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

    def describe(self) -> str:
        return self.description

    def trained_on(self) -> str:
        return f"nothing of its own: it averages {' and '.join(self.members)} at {len(self.rotations)} rotations"


PRESETS = {
    # chosen on pen-digit writers 16-20 through the members' tuning twins, which never trained on them
    # (benchmarks/ensemble_choice.py, at commit a511d6c; docs/experiments.md, Rounds 2 and 4)
    "ensemble": EnsembleConfig(
        members=("keras-cnn-no-erasing", "keras-mlp"),
        rotations=(0.0, -4.0, 4.0),
        description="the CNN fine-tuned without erased ink (keras-cnn-no-erasing) and keras-mlp, each reading the "
        "digit upright and turned 4 degrees each way, averaged",
        label="Ensemble (Keras CNN + MLP, 3 views)",
    ),
}
SHIPPED = ("ensemble",)  # the app reads with it (kinds.py)


def turned(arrays: np.ndarray, degrees: float) -> np.ndarray:
    """(n, 28, 28) digits or signed maps, each turned counter-clockwise about its centre (bilinear), in their dtype.

    A bilinear value is a weighted mean of its neighbours and the 0 that fills the corners, so it stays within
    [min(0, lowest), max(0, highest)] of the input: clipping there only removes float32 rounding, which would put a
    turned digit's ink a hair above 1 and out of the model contract's [0, 1]. Signed maps stay signed.
    """
    arrays = np.asarray(arrays)
    if degrees == 0:
        return arrays
    turn = [
        np.asarray(Image.fromarray(a.astype(np.float32), mode="F").rotate(degrees, resample=Image.Resampling.BILINEAR))
        for a in arrays
    ]
    low, high = min(0.0, float(arrays.min())), max(0.0, float(arrays.max()))
    return np.clip(np.stack(turn), low, high).astype(arrays.dtype)


class Ensemble:
    """Several readings behind the shared model contract (`predict_proba`)."""

    def __init__(self, members: Sequence[Predictor], config: EnsembleConfig):
        if len(members) != len(config.members):
            raise ValueError(f"{len(members)} models given for the members {config.members}")
        self.members, self.config = list(members), config

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10): the mean over members and rotations."""
        return in_chunks(self._mean, images, CHUNK)

    def save(self, path: str | Path) -> None:
        save_config(self.config, path)

    def _mean(self, images: np.ndarray) -> np.ndarray:
        n = len(images)
        views = np.concatenate([turned(images, r) for r in self.config.rotations])  # every view in one call per member
        readings = [np.asarray(m.predict_proba(views), dtype=np.float64).reshape(-1, n, 10) for m in self.members]
        return np.concatenate(readings).mean(axis=0)

    def input_gradient(self, images: np.ndarray, targets: np.ndarray, quantity: str) -> np.ndarray:
        """The mean of its members' input gradients over its views, each turned back onto the drawing.

        A view is the drawing turned by r degrees; turning its gradient back by -r is (near enough, for a
        bilinear turn) the transpose of that turn: the chain rule from the view back to the drawing.
        """
        n, targets = len(images), np.asarray(targets)
        views = np.concatenate([turned(images, r) for r in self.config.rotations])
        every_view = np.tile(targets, len(self.config.rotations))
        maps = [explainable(m).input_gradient(views, every_view, quantity).reshape(-1, n, 28, 28) for m in self.members]
        back = [turned(m[i], -r) for m in maps for i, r in enumerate(self.config.rotations)]
        return np.mean(back, axis=0, dtype=np.float64)

    def focus(self, image: np.ndarray, target: int) -> list[tuple[str, np.ndarray, bool]]:
        """What its members look at: heat maps (Grad-CAM) averaged over the views, each turned back; signed
        panels (a NumPy network's units) cannot be averaged across views, so those are the upright view's."""
        panels, upright, reasons = [], self.config.rotations.index(0.0) if 0.0 in self.config.rotations else 0, []
        for member in self.members:
            try:
                views = [explainable(member).focus(turned(image[None], r)[0], target) for r in self.config.rotations]
            except ExplainError as exc:  # a member with no such view (an MLP has no Grad-CAM): the others show theirs
                reasons.append(str(exc))
                continue
            if any(signed for _, _, signed in views[upright]):
                panels += views[upright]
                continue
            for k, (title, _, _) in enumerate(views[upright]):
                heat = np.mean(
                    [turned(view[k][1][None], -r)[0] for view, r in zip(views, self.config.rotations, strict=True)],
                    axis=0,
                    dtype=np.float64,
                )
                panels.append((f"{title}, mean of {len(views)} views", heat / max(float(heat.max()), 1e-12), False))
        if not panels:
            raise ExplainError("; ".join(reasons))
        return panels


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


def load_network(path: Path, load_model: LoadModel) -> Ensemble:
    """The kind's loader (kinds.py): its members come through `load_model`, so a cache holds each model once."""
    return assemble(load_config(path), load_model)


def looks_whole(path: Path, present: Callable[[str], bool]) -> bool:
    """Its config reads and every member is present."""
    try:
        return all(present(member) for member in load_config(path).members)
    except ValueError:
        return False


def train_network(
    config: EnsembleConfig, data: TrainingData, load_model: LoadModel, verbose: bool = True, listener=None, state=None
) -> tuple[Ensemble, dict[str, list[float]]]:
    """The kind's trainer (kinds.py): nothing to fit; the members must be trained already."""
    return assemble(config, load_model), empty_history()


def assemble(config: EnsembleConfig, load_model: LoadModel) -> Ensemble:
    return Ensemble([load_model(member) for member in config.members], config)

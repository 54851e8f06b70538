"""Teach a model one person's handwriting: fine-tune a copy of a shipped model on a few of their drawings,
with MNIST digits replayed beside them so that everyone else's handwriting is not forgotten.

    from mnist_app.training.personal import fine_tune
    taught = fine_tune("ensemble", images, labels)   # (n, 28, 28) float32 in [0, 1], (n,) ints -> Model
    taught.predict_proba(images)                     # the same contract as models.load(...)

The shipped model's files are never written: the copy lives in memory. Each kind trains through its own trainer
(kinds.py), starting from the shipped weights; an ensemble's members are taught one by one and the ensemble
rebuilt from them. The taught drawings are kept beside the copy as prototypes: near one of them, its label is
blended into the probabilities (prototypes.py); far from them, the fine-tuned network reads alone. The recipe
(RECIPE) was chosen on the tuning twins with writers 16-20 as the people (docs/experiments.md, Rounds 7-12; the
scripts that chose it are at commit a511d6c); writers 21-30 only measure it. The MNIST digits replayed are the
shipped ones (data.load_replay), so that teaching needs no MNIST on the machine and reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np

from mnist_app.contract import TrainingData, TrainingListener, empty_history, validate_images
from mnist_app.data import Mnist, load_replay, to_float
from mnist_app.data.augment import AugmentConfig, augment
from mnist_app.data.pendigits import TUNING_WRITERS
from mnist_app.models import Model, calibration, load, model_dir, weights_path
from mnist_app.models.calibration import Calibration
from mnist_app.models.kinds import kind_of, preset
from mnist_app.models.prototypes import FILE as PROTOTYPES_FILE
from mnist_app.models.prototypes import Blend, Prototyped

MIN_DRAWINGS, MAX_DRAWINGS = 10, 5000
VALIDATION = 500  # replayed MNIST digits kept aside for the trainers' per-epoch validation


@dataclass(frozen=True)
class Recipe:
    """How a model is taught: its own optimizer and batch size, these epochs and rate, each drawing seen `repeats`
    times per epoch (lightly distorted), with `replay` MNIST training digits per drawing."""

    kind: ClassVar[str] = "teach"
    trains_itself: ClassVar[bool] = True

    epochs: int = 3
    learning_rate: float = 1e-4
    repeats: int = 8
    replay: int = 8
    distort: bool = True
    seed: int = 0
    blend: Blend | None = None  # the drawings kept as prototypes, their vote blended in near them (prototypes.py)

    def describe(self) -> str:
        taught = (
            f"taught {self.epochs} epochs at {self.learning_rate:g}, each drawing {self.repeats} times per epoch"
            + (" (distorted)" if self.distort else "")
            + f", {self.replay} MNIST digits replayed per drawing"
        )
        if self.blend is None:
            return taught
        b = self.blend
        kept = f"the drawings kept: near one, {b.k} nearest vote with up to {b.weight:g} of the say"
        return f"{taught}; {kept}" if self.epochs else kept


# chosen on writers 16-20 through the tuning twins (docs/experiments.md, Rounds 7 and 9; their scripts are at commit
# a511d6c): of the recipes that made no writer worse and cost at most 0.3
# points of MNIST for every model, the one that cut the ensemble's errors most
RECIPE = Recipe(learning_rate=2e-4, replay=16, blend=Blend(k=1, weight=0.9, reach=1.0, blur=0.0))


PER_DIGIT = 3  # teach mode asks for this many drawings of each digit, by default


def next_prompt(counts: dict[int, int], per_digit: int = PER_DIGIT) -> int | None:
    """The digit teach mode asks for next: the one with the fewest drawings (the lowest, on a tie), until each
    has `per_digit`; None then."""
    short = [d for d in range(10) if counts.get(d, 0) < per_digit]
    return min(short, key=lambda d: (counts.get(d, 0), d)) if short else None


def check_tuning_writers(writers) -> list[int]:
    """Writers a recipe may be chosen on: trainable ones (1-20) only; ValueError for a held-out one (21-30)."""
    chosen = sorted({int(w) for w in writers})
    held_out = [w for w in chosen if w not in TUNING_WRITERS]
    if held_out:
        raise ValueError(f"writers {held_out} are held out (21-30): they measure a recipe, never choose it")
    return chosen


def check_drawings(
    images: np.ndarray, labels: np.ndarray, minimum: int = MIN_DRAWINGS
) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) float32 in [0, 1] and (n,) int64 digits, minimum <= n <= 5000; ValueError naming the problem."""
    images = validate_images(images)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must be one digit per image ({len(images)}), got shape {labels.shape}")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        raise ValueError("labels must be whole digits 0-9")
    if not minimum <= len(images) <= MAX_DRAWINGS:
        raise ValueError(f"{len(images)} drawings: teaching takes {minimum} to {MAX_DRAWINGS}")
    return images, labels.astype(np.int64)


def fine_tune(
    name: str,
    images: np.ndarray,
    labels: np.ndarray,
    recipe: Recipe = RECIPE,
    directory: str | Path | None = None,
    listener: TrainingListener | None = None,
    minimum: int = MIN_DRAWINGS,
) -> Model:
    """A copy of model `name` (from `directory`, default models/) taught these drawings (at least `minimum`), with
    the shipped replay digits replayed beside them (data.load_replay), whatever MNIST this machine has. ValueError
    for bad input, ModelLoadError when the model cannot be loaded, ReplayDataError when the replay digits are
    corrupt."""
    images, labels = check_drawings(images, labels, minimum)
    if recipe.epochs:
        mnist = load_replay()

        @cache  # made once: an ensemble's members are taught the same data, as one network would be
        def data() -> TrainingData:
            return _data(images, labels, recipe, mnist)

        model = _teach(name, data, recipe, directory, listener)
    else:  # the prototypes alone: the shipped network, unchanged
        base = load(name, directory)
        model = replace(base, title=f"{base.label} + your handwriting")
    if recipe.blend is None:
        return model
    return replace(model, network=Prototyped(model.network, images, labels, recipe.blend))


def teaching(name: str, images: np.ndarray, labels: np.ndarray, directory: str | Path | None = None):
    """`fine_tune` as the one pipeline's fit step (pipeline.fit_and_write(recipe, None, ..., fit=teaching(...),
    save=save)): its config is the recipe; the taught model, or None when its listener stopped it, and no history
    (teaching's epochs are its drawings seen again, not a curve to show)."""

    def fit(recipe: Recipe, data, load_model, listener: TrainingListener | None, state):
        model = fine_tune(name, images, labels, recipe, directory, listener)
        return (None if listener is not None and listener.stop_requested() else model), empty_history()

    return fit


def _teach(name: str, data: Callable[[], TrainingData], recipe: Recipe, directory, listener) -> Model:
    """The model's kind's own trainer, started from the shipped model, on `data()`; an ensemble is assembled from
    its members, each taught in turn. The shipped calibration is kept."""
    base = load(name, directory)
    code = kind_of(name).code()

    def starting_point(other: str) -> Model:  # the model itself, or one of an ensemble's members, taught
        return base if other == name else _teach(other, data, recipe, directory, listener)

    # an ensemble has nothing to fit itself: its members are taught as it assembles them
    network, _ = code.train_network(_config(name, recipe), data(), starting_point, 0, listener)
    return replace(base, network=network, title=f"{base.label} + your handwriting")


def _config(name: str, recipe: Recipe):
    """The model's own preset, started from its trained weights, with the recipe's epochs and rate (an ensemble's
    preset has none of these: it stays as it is)."""
    changes = {
        "start_from": name,
        "epochs": recipe.epochs,
        "learning_rate": recipe.learning_rate,
        "schedule": "constant",
        "augment": False,
        "restyle": 0.0,
        "erase_ink": 0.0,
        "pen_writers": (),
        "pen_variants": 0,
        "early_stopping": 0,
        "seed": recipe.seed,
    }
    config = preset(name)
    known = {f.name for f in fields(config)}
    return replace(config, **{key: value for key, value in changes.items() if key in known})


def _data(images: np.ndarray, labels: np.ndarray, recipe: Recipe, mnist: Mnist) -> TrainingData:
    """The drawings `repeats` times (distorted afresh each time, when the recipe says so), and replay digits (`mnist`'s
    training split: the shipped ones) beside them; a few more of them for validation."""
    rng = np.random.default_rng(recipe.seed)
    copies = [
        augment(images, rng, AugmentConfig(restyle=0.0)) if recipe.distort else images for _ in range(recipe.repeats)
    ]
    pool = len(mnist.x_train)
    picked = rng.choice(pool, size=min(pool, recipe.replay * len(images) + VALIDATION), replace=False)
    replay, val = picked[:-VALIDATION], picked[-VALIDATION:]
    x = np.concatenate([*copies, to_float(mnist.x_train[replay])]).astype(np.float32)
    y = np.concatenate([np.tile(labels, recipe.repeats), mnist.y_train[replay].astype(np.int64)])
    return TrainingData(x, y, to_float(mnist.x_train[val]), mnist.y_train[val].astype(np.int64))


def save(model: Model, directory: Path) -> None:
    """Write a taught model as a models folder holds it: its weights (and prototypes) and calibration, and its
    members' in their own folders (an ensemble's), so that `load_taught(model.name, directory)` loads it back."""
    model.network.save(weights_path(model.name, directory))
    kept = Calibration(model.temperature, model.unsure_below, fitted_on="the shipped model's, kept when it was taught")
    calibration.save(kept, model_dir(model.name, directory))
    for member in getattr(model.network, "members", ()):
        save(member, directory)


def load_taught(name: str, directory: Path) -> Model:
    """A taught model saved by `save`: the model in `directory`, with its prototypes when it kept some;
    ModelLoadError as models.load."""
    model = load(name, directory)
    kept = model_dir(name, directory) / PROTOTYPES_FILE
    return replace(model, network=Prototyped.load(model.network, kept)) if kept.is_file() else model

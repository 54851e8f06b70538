"""Teach a model one person's handwriting: fine-tune a copy of a shipped model on a few of their drawings,
with MNIST digits replayed beside them so that everyone else's handwriting is not forgotten.

    from mnist_app.personal import fine_tune
    taught = fine_tune("ensemble", images, labels)   # (n, 28, 28) float32 in [0, 1], (n,) ints -> Model
    taught.predict_proba(images)                     # the same contract as models.load(...)

The shipped model's files are never written: the copy lives in memory. Each kind trains through its own trainer
(kinds.py), starting from the shipped weights; an ensemble's members are taught one by one and the ensemble
rebuilt from them. The taught drawings are kept beside the copy as prototypes: near one of them, its label is
blended into the probabilities (prototypes.py); far from them, the fine-tuned network reads alone. The recipe
(RECIPE) was chosen on the tuning twins with writers 16-20 as the people (benchmarks/personal.py,
benchmarks/personal_blend.py); writers 21-30 only measure it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np

from . import calibration
from .augment import AugmentConfig, augment
from .calibration import Calibration
from .contract import TrainingData, TrainingListener, validate_images
from .data import Mnist, load_mnist, to_float
from .kinds import kind_of, preset
from .models import Model, load, model_dir, weights_path
from .pendigits import TUNING_WRITERS
from .prototypes import FILE as PROTOTYPES_FILE
from .prototypes import Blend, Prototyped

MIN_DRAWINGS, MAX_DRAWINGS = 10, 5000
VALIDATION = 500  # replayed MNIST digits kept aside for the trainers' per-epoch validation
REPLAY_POOL = 55_000  # replay draws from MNIST's first 55,000 training digits: the last 5,000 measure forgetting
# while a recipe is chosen (benchmarks/personal.py --choose), so that MNIST's test digits never choose it


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
    train_top: int = 0  # only the network's last this many layers learn, the rest frozen (0 = every layer learns)
    # the taught network's weights lie this share of the way from the shipped network's to the fine-tuned ones:
    # 1 is the fine-tuned network; less keeps more of what the shipped one knew (WiSE-FT, Wortsman et al. 2022)
    share: float = 1.0
    # taught this many times, each with its own seed (its own distortions, replayed digits and batches), and the
    # taught weights averaged: a uniform "model soup" (Wortsman et al. 2022), steadier than any one of its fine-tunes
    soup: int = 1
    blend: Blend | None = None  # the drawings kept as prototypes, their vote blended in near them (prototypes.py)

    def __post_init__(self) -> None:
        if self.soup < 1 or self.train_top < 0 or not 0 < self.share <= 1:
            raise ValueError(f"a recipe needs soup >= 1, train_top >= 0 and 0 < share <= 1, got {self}")

    def describe(self) -> str:
        taught = (
            f"taught {self.epochs} epochs at {self.learning_rate:g}, each drawing {self.repeats} times per epoch"
            + (" (distorted)" if self.distort else "")
            + f", {self.replay} MNIST digits replayed per drawing"
            + (f", only its last {self.train_top} layer{'s' * (self.train_top > 1)} learning" if self.train_top else "")
            + (f", {self.soup} such fine-tunes' weights averaged" if self.soup > 1 else "")
            + (f", its weights moved {self.share:.0%} of the way from the shipped ones" if self.share < 1 else "")
        )
        if self.blend is None:
            return taught
        b = self.blend
        kept = f"the drawings kept: near one, {b.k} nearest vote with up to {b.weight:g} of the say"
        return f"{taught}; {kept}" if self.epochs else kept


# chosen on writers 16-20 through the tuning twins (benchmarks/personal.py --choose and benchmarks/personal_blend.py;
# docs/experiments.md, Rounds 7 and 9): of the recipes that made no writer worse and cost at most 0.3 points of MNIST
# for every model, the one that cut the ensemble's errors most
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
    mnist: Mnist | None = None,
    listener: TrainingListener | None = None,
    minimum: int = MIN_DRAWINGS,
) -> Model:
    """A copy of model `name` (from `directory`, default models/) taught these drawings (at least `minimum`);
    ValueError for bad input, ModelLoadError when the model cannot be loaded, MnistDataError without MNIST."""
    images, labels = check_drawings(images, labels, minimum)
    if recipe.epochs:
        mnist = mnist or load_mnist()

        @cache  # made once per seed: an ensemble's members are taught the same data, as one network would be
        def data(seed: int) -> TrainingData:  # each fine-tune of a soup has its own distortions and replayed digits
            return _data(images, labels, replace(recipe, seed=seed), mnist)

        model = _teach(name, data, recipe, directory, listener)
    else:  # the prototypes alone: the shipped network, unchanged
        base = load(name, directory)
        model = replace(base, title=f"{base.label} + your handwriting")
    if recipe.blend is None:
        return model
    return replace(model, network=Prototyped(model.network, images, labels, recipe.blend))


def _teach(name: str, data: Callable[[int], TrainingData], recipe: Recipe, directory, listener) -> Model:
    """The model's kind's own trainer, started from the shipped model: a network learns from `data(seed)` once per
    seed of the recipe's soup, the networks are averaged, and the average moves `recipe.share` of the way; an ensemble
    is assembled from its members, each taught in turn. The shipped calibration is kept."""
    base = load(name, directory)
    code = kind_of(name).code()

    def starting_point(other: str) -> Model:  # the model itself, or one of an ensemble's members, taught
        return base if other == name else _teach(other, data, recipe, directory, listener)

    config = _config(name, recipe)
    if not config.trains_itself:  # an ensemble: nothing to fit, its members are taught
        network, _ = code.train_network(config, data(recipe.seed), starting_point, 0, listener)
        return replace(base, network=network, title=f"{base.label} + your handwriting")
    network = None
    for count, seed in enumerate(range(recipe.seed, recipe.seed + recipe.soup), start=1):
        taught, _ = code.train_network(replace(config, seed=seed), data(seed), starting_point, 0, listener)
        network = taught if network is None else code.between(network, taught, 1 / count)  # the running average
    if recipe.share < 1:
        network = code.between(base.network, network, recipe.share)
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
        "train_top": recipe.train_top,
    }
    config = preset(name)
    known = {f.name for f in fields(config)}
    return replace(config, **{key: value for key, value in changes.items() if key in known})


def _data(images: np.ndarray, labels: np.ndarray, recipe: Recipe, mnist: Mnist) -> TrainingData:
    """The drawings `repeats` times (distorted afresh each time, when the recipe says so), and MNIST digits
    replayed beside them; a few more MNIST digits for validation."""
    rng = np.random.default_rng(recipe.seed)
    copies = [
        augment(images, rng, AugmentConfig(restyle=0.0)) if recipe.distort else images for _ in range(recipe.repeats)
    ]
    pool = min(REPLAY_POOL, len(mnist.x_train))
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

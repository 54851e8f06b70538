"""The table of model kinds, and what the presets say about each model: its kind, what it needs, whether it ships.

A model's name maps to its kind, a kind to its weights file, loader and trainer. Adding a kind adds its module and
one line to KINDS: models.py, train.py and the pages look a model up here and never branch on its kind or its name.
Every fact about one model (its label, what it starts from or is made of, whether the app ships it) lives in its
preset, so that the order `train.py all` trains in and the list the Draw page offers are derived, never written out.

A kind's presets module imports nothing heavy (the pages read it before TensorFlow has loaded); it provides:
    PRESETS: model name -> its frozen config dataclass, saved in report.json: `kind` and `trains_itself` (ClassVars),
             `label`, `describe()`, `trained_on()`; `start_from` or `members` when it needs other models; and when it
             trains itself, `val_fraction`, `seed`, `pen_writers` and `pen_variants` (train.py's training data)
    SHIPPED: the names of PRESETS the app reads with (the Draw page offers them, in KINDS' order); the rest compare
    looks_whole(path, present) -> bool   a cheap check of a weights file, for `models.available`; present(name) says
                                         whether another model is there
Its code module, imported only when a model of the kind is loaded or trained (the Keras one imports TensorFlow):
    load_network(path, load_model) -> Network       load_model(name) loads another model (an ensemble's members)
    train_network(config, data, load_model, verbose, listener, state) -> (Network, history)   listener hears the run
                                         (contract); state, a folder, keeps each finished epoch's training state and
                                         training goes on from the one it holds (a run whose worker died)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str
    weights_file: str
    module: str  # its loader and trainer: imported on first use
    presets_module: str  # its PRESETS, SHIPPED and looks_whole: imported with this table

    def code(self) -> ModuleType:
        return importlib.import_module(self.module)

    @property
    def presets(self) -> Mapping[str, Any]:
        return importlib.import_module(self.presets_module).PRESETS

    @property
    def shipped(self) -> tuple[str, ...]:
        return importlib.import_module(self.presets_module).SHIPPED

    def looks_whole(self, path: Path, present: Callable[[str], bool]) -> bool:
        return importlib.import_module(self.presets_module).looks_whole(path, present)


KINDS = (
    Kind("numpy", "model.npz", "mnist_app.models.numpy_net", "mnist_app.models.numpy_config"),
    Kind("keras", "model.keras", "mnist_app.models.keras_models", "mnist_app.models.keras_config"),
    Kind("ensemble", "ensemble.json", "mnist_app.models.ensemble", "mnist_app.models.ensemble"),
)
NAMES = tuple(name for kind in KINDS for name in kind.presets)  # every model train.py can make
SHIPPED = tuple(name for kind in KINDS for name in kind.shipped)  # offered on the Draw page; the rest are comparisons


class UnknownModelError(KeyError):
    """No kind has a preset of this name."""

    def __str__(self) -> str:
        return f"unknown model {self.args[0]!r}; known: {', '.join(NAMES)}"


class PresetCycleError(ValueError):
    """Presets that start from or are made of each other, so that none of them can be trained first."""


def kind_of(name: str) -> Kind:
    """The kind whose presets name this model; UnknownModelError otherwise."""
    for kind in KINDS:
        if name in kind.presets:
            return kind
    raise UnknownModelError(name)


def kind_named(name: str) -> Kind:
    """The row of a config's kind (`config.kind`): a run from the Train page has a config, not a preset's name."""
    return next(kind for kind in KINDS if kind.name == name)


def preset(name: str) -> Any:
    """A model's configuration as shipped."""
    return kind_of(name).presets[name]


def needs(name: str) -> tuple[str, ...]:
    """The trained models a model needs first: the one it is fine-tuned from, and the ones it averages."""
    config = preset(name)
    return tuple(filter(None, (getattr(config, "start_from", ""),))) + tuple(getattr(config, "members", ()))


def behind(names: Iterable[str], needs: Callable[[str], Iterable[str]] = needs) -> tuple[str, ...]:
    """`names`, what they need, what that needs, and so on: every model that training them from nothing makes."""
    found = list(dict.fromkeys(names))
    for name in found:  # grows as it goes: each model's needs are looked at once
        found += [other for other in needs(name) if other not in found]
    return tuple(found)


def training_order(names: Iterable[str], needs: Callable[[str], Iterable[str]] = needs) -> tuple[str, ...]:
    """`names`, each after those of them it starts from or is made of (the others must be trained already): those
    that need none of the others first, in the order given; PresetCycleError, naming them, when some need each other.
    """
    names = tuple(dict.fromkeys(names))
    graph = TopologicalSorter({name: () for name in names})  # every name first: ties keep the order given
    for name in names:
        graph.add(name, *(other for other in needs(name) if other in names))
    try:
        return tuple(graph.static_order())
    except CycleError as exc:
        cycle = " needs ".join(reversed(exc.args[1]))  # graphlib lists each model before the one that needs it
        raise PresetCycleError(f"no order can train presets that need each other: {cycle}") from None

"""The table of model kinds: a model's name maps to its kind, a kind to its weights file, loader and trainer.

Adding a kind adds its module and one line to KINDS. models.py, train.py and the pages look a model up here
and never branch on its kind. A kind's module is imported only when a model of that kind is loaded or
trained (the Keras one imports TensorFlow); its presets come from a module that imports nothing heavy.

A kind's module provides:
    load_network(path, load_model) -> Network       load_model(name) loads another model (an ensemble's members)
    train_network(config, data, load_model, verbose, listener) -> (Network, history)   listener hears the run (contract)
and its row below names a cheap check of its weights file, without TensorFlow, for `models.available`:
    looks_whole(path, present) -> bool              present(name) says whether another model is there
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from . import ensemble, keras_config, numpy_net
from .contract import zip_looks_whole


@dataclass(frozen=True)
class Kind:
    name: str
    weights_file: str
    module: str  # imported on first use
    presets: Mapping[str, Any]  # model name -> its frozen config dataclass
    looks_whole: Callable[[Path, Callable[[str], bool]], bool]  # weights file, is-another-model-present

    def code(self) -> ModuleType:
        return importlib.import_module(self.module)


KINDS = (
    Kind("numpy", "model.npz", "mnist_app.numpy_net", numpy_net.PRESETS, zip_looks_whole),
    Kind("keras", "model.keras", "mnist_app.keras_models", keras_config.PRESETS, zip_looks_whole),
    Kind("ensemble", "ensemble.json", "mnist_app.ensemble", ensemble.PRESETS, ensemble.looks_whole),
)
NAMES = tuple(name for kind in KINDS for name in kind.presets)  # every model train.py can make


class UnknownModelError(KeyError):
    """No kind has a preset of this name."""

    def __str__(self) -> str:
        return f"unknown model {self.args[0]!r}; known: {', '.join(NAMES)}"


def kind_of(name: str) -> Kind:
    """The kind whose presets name this model; UnknownModelError otherwise."""
    for kind in KINDS:
        if name in kind.presets:
            return kind
    raise UnknownModelError(name)


def preset(name: str) -> Any:
    """A model's configuration as shipped."""
    return kind_of(name).presets[name]

"""The shipped models behind one contract: `load(name).predict_proba(images)`.

Each model lives in its own folder under `models/` (comparisons under `models/comparisons/`):
its weights (`model.npz` or `model.keras`; an ensemble's `ensemble.json` names its members), `history.json`,
`report.json` and `misclassified.npz`. Keras (and so TensorFlow) is imported only when a Keras model is loaded.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .calibration import load as load_calibration
from .calibration import tempered

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED = ("numpy-mlp", "keras-mlp", "keras-cnn", "ensemble")
LABELS = {
    "numpy-mlp": "NumPy MLP (from scratch)",
    "keras-mlp": "Keras MLP",
    "keras-cnn": "Keras CNN",
    "keras-cnn-mnist": "Keras CNN (MNIST styles only)",
    "numpy-mlp-mnist": "NumPy MLP (MNIST only)",
    "keras-mlp-mnist": "Keras MLP (MNIST only)",
    "ensemble": "Ensemble (Keras CNN + MLP, 3 views)",
}
WEIGHTS_FILE = {"numpy": "model.npz", "keras": "model.keras", "ensemble": "ensemble.json"}


class ModelLoadError(Exception):
    """A model could not be loaded; the message names the file and the command that retrains it."""


class Predictor(Protocol):
    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...


def kind_of(name: str) -> str:
    """'numpy', 'keras' or 'ensemble', from the model's name."""
    return next((kind for kind in ("numpy", "ensemble") if name.startswith(kind)), "keras")


def label_of(name: str) -> str:
    """What the app calls a model."""
    return LABELS.get(name, name)


def model_dir(name: str, directory: str | Path | None = None) -> Path:
    """A shipped model's folder in `directory` (default models/), or a comparison's, under its comparisons/."""
    return Path(directory or MODELS_DIR) / (name if name in SHIPPED else f"comparisons/{name}")


def weights_path(name: str, directory: str | Path | None = None) -> Path:
    return model_dir(name, directory) / WEIGHTS_FILE[kind_of(name)]


def retrain_command(name: str) -> str:
    return f"python train.py {name}"


def available(directory: str | Path | None = None) -> list[str]:
    """The shipped models whose weight files are present and readable (checked without loading Keras)."""
    return [name for name in SHIPPED if _present(name, directory)]


def _present(name: str, directory: str | Path | None) -> bool:
    """A model's weights look whole; an ensemble's config is readable and its members are present."""
    path = weights_path(name, directory)
    if kind_of(name) != "ensemble":
        return zipfile.is_zipfile(path)
    from .ensemble import load_config

    try:
        return all(_present(member, directory) for member in load_config(path).members)
    except ValueError:
        return False


@dataclass
class Model:
    """A loaded model: validates its input, then asks the network for probabilities."""

    name: str
    network: Predictor
    temperature: float = 1.0  # calibration.json's: softens (or sharpens) the network's probabilities
    unsure_below: float = 0.5  # calibration.json's: a top probability under this is reported as unsure

    @property
    def kind(self) -> str:
        return kind_of(self.name)

    @property
    def label(self) -> str:
        return label_of(self.name)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10) float64 probabilities, each row summing to 1.

        The model's calibrated temperature is applied (calibration.py): it changes how sure, never which digit.
        """
        raw = np.asarray(self.network.predict_proba(validate_images(images)), dtype=np.float64)
        return tempered(raw, self.temperature)


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


def load(name: str, directory: str | Path | None = None) -> Model:
    """Load a model by name; ModelLoadError for an unknown name or a missing, corrupt or incompatible file."""
    path = weights_path(name, directory)
    if not path.exists():
        known = ", ".join(SHIPPED)
        raise ModelLoadError(f"{path}: no such model file (models: {known}). Retrain with: {retrain_command(name)}")
    try:
        network = _load_network(name, path, directory)
        calibration = load_calibration(model_dir(name, directory))
    except Exception as exc:  # any reader's failure means the same thing here: this file is unusable
        raise ModelLoadError(f"{path}: cannot load ({exc}). Retrain with: {retrain_command(name)}") from exc
    return Model(name, network, calibration.temperature, calibration.unsure_below)


def _load_network(name: str, path: Path, directory: str | Path | None) -> Predictor:
    if kind_of(name) == "numpy":
        from .numpy_net import NumpyMLP

        return NumpyMLP.load(path)
    if kind_of(name) == "ensemble":
        from .ensemble import Ensemble, load_config

        config = load_config(path)
        return Ensemble([load(member, directory) for member in config.members], config.rotations)
    from .keras_models import KerasClassifier  # imports TensorFlow: only now, when a Keras model is wanted

    classifier = KerasClassifier.load(path)
    output_shape = tuple(classifier.model.output_shape)
    if tuple(classifier.model.input_shape[1:]) != (28, 28) or output_shape[1:] != (10,):
        raise ValueError(f"model maps {classifier.model.input_shape} to {output_shape}, not (n, 28, 28) to (n, 10)")
    return classifier


UNSURE_BELOW = 0.5  # a top probability under this is reported as unsure, with the runner-up


@dataclass(frozen=True)
class Reading:
    """What the Draw page says about one drawing."""

    digit: int
    probability: float
    runner_up: int
    runner_up_probability: float
    unsure_below: float = UNSURE_BELOW

    @property
    def unsure(self) -> bool:
        return self.probability < self.unsure_below


def read(probabilities: np.ndarray, unsure_below: float = UNSURE_BELOW) -> Reading:
    """The top answer and the runner-up of one row of ten probabilities; unsure under the model's threshold."""
    best, second = np.argsort(-np.asarray(probabilities))[:2]
    return Reading(int(best), float(probabilities[best]), int(second), float(probabilities[second]), unsure_below)

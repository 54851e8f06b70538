"""The models behind one contract: `load(name).predict_proba(images)`, whatever their kind.

Each model lives in its own folder under `models/` (comparisons under `models/comparisons/`):
its weights (named by its kind, kinds.py), `history.json`, `report.json` and `misclassified.npz`.
Keras (and so TensorFlow) is imported only when a Keras model is loaded.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_app.contract import LoadModel, Network, validate_images
from mnist_app.models.calibration import FILE as CALIBRATION_FILE
from mnist_app.models.calibration import FLOOR as UNSURE_BELOW
from mnist_app.models.calibration import load as load_calibration
from mnist_app.models.calibration import tempered
from mnist_app.models.kinds import SHIPPED, UnknownModelError, kind_of, preset

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
# comparisons that ship inside a shipped ensemble: trained, calibrated and measured with the shipped models
ENSEMBLE_MEMBERS_ONLY = tuple(
    dict.fromkeys(m for name in SHIPPED for m in getattr(preset(name), "members", ()) if m not in SHIPPED)
)
# the models the app reads with, and the ensemble's members (their temperatures apply inside the ensemble): train.py
# fits their calibration; the rest are comparisons, never calibrated
CALIBRATED = (*SHIPPED, *ENSEMBLE_MEMBERS_ONLY)
# Each model above has a tuning twin: its recipe trained on fewer pen writers (pen_training.TWIN_WRITERS), in this
# folder of the models folder. The twins read writers that the shipped models trained on as unseen people: the
# ensemble is chosen and the calibration fitted on those readings.
TWINS_FOLDER = "tuning"


class ModelLoadError(Exception):
    """A model could not be loaded; the message names the file and the command that retrains it."""


def label_of(name: str) -> str:
    """What the app calls a model."""
    try:
        return preset(name).label or name
    except UnknownModelError:
        return name


def model_dir(name: str, directory: str | Path | None = None) -> Path:
    """A shipped model's folder in `directory` (default models/), or a comparison's, under its comparisons/."""
    return Path(directory or MODELS_DIR) / (name if name in SHIPPED else f"comparisons/{name}")


def twins_dir(directory: str | Path | None = None) -> Path:
    """The folder of the tuning twins of the models in `directory` (default models/)."""
    return Path(directory or MODELS_DIR) / TWINS_FOLDER


def weights_path(name: str, directory: str | Path | None = None) -> Path:
    return model_dir(name, directory) / kind_of(name).weights_file


def stamp(name: str, directory: str | Path | None = None) -> tuple:
    """What a retrain or a recalibration changes: the modification time and size of the model's weights and
    calibration files, and its members' stamps (an ensemble's). A cache keyed by it loads a retrained model afresh."""
    try:
        members = getattr(preset(name), "members", ())
    except UnknownModelError:
        return ()  # `load` says what is wrong with the name
    own = (_file_stamp(weights_path(name, directory)), _file_stamp(model_dir(name, directory) / CALIBRATION_FILE))
    return own + tuple(stamp(member, directory) for member in members)


def version(name: str, directory: str | Path | None = None) -> str:
    """What the drawing store keys a model's readings by: the start of the sha256 of its weights and calibration
    files, and of its members' (an ensemble's). A retrain or a recalibration makes a new version."""
    digest = hashlib.sha256()
    for path in _files(name, directory):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest.hexdigest()[:16]


def _files(name: str, directory: str | Path | None) -> list[Path]:
    members = getattr(preset(name), "members", ())
    own = [weights_path(name, directory), model_dir(name, directory) / CALIBRATION_FILE]
    return own + [path for member in members for path in _files(member, directory)]


def _file_stamp(path: Path) -> tuple[int, int] | None:
    """(modification time in ns, size), or None where there is no such file."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def retrain_command(name: str) -> str:
    return f"python train.py {name}"


def calibrate_command(name: str) -> str:
    """Refits a trained model's temperature and unsure-threshold (a model in CALIBRATED), training nothing."""
    return f"python train.py {name} --calibrate-only"


def available(directory: str | Path | None = None) -> list[str]:
    """The shipped models whose weight files are present and look whole (checked without loading Keras). The Draw
    page asks on every stroke: a model's files are looked into again only when their stamp changes."""
    folder = None if directory is None else str(directory)
    return [name for name in SHIPPED if _present_as_stamped(name, folder, stamp(name, directory))]


@functools.lru_cache(maxsize=64)
def _present_as_stamped(name: str, directory: str | None, _stamp: tuple) -> bool:
    return present(name, directory)


def present(name: str, directory: str | Path | None = None) -> bool:
    """A model's weights look whole (an ensemble's: its config reads and its members are present)."""
    path = weights_path(name, directory)
    return path.is_file() and kind_of(name).looks_whole(path, lambda member: present(member, directory))


@dataclass
class Model:
    """A loaded model: validates its input, then asks the network for probabilities."""

    name: str
    network: Network
    temperature: float = 1.0  # calibration.json's: softens (or sharpens) the network's probabilities
    unsure_below: float = UNSURE_BELOW  # calibration.json's: a top probability under this is reported as unsure
    title: str = ""  # what the app calls a model that is no preset (a run trained on the Train page)

    @property
    def label(self) -> str:
        return self.title or label_of(self.name)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10) float64 probabilities, each row summing to 1.

        The model's calibrated temperature is applied (calibration.py): it changes how sure, never which digit.
        """
        raw = np.asarray(self.network.predict_proba(validate_images(images)), dtype=np.float64)
        return tempered(raw, self.temperature)


def load(name: str, directory: str | Path | None = None, load_member: LoadModel | None = None) -> Model:
    """Load a model by name; ModelLoadError for an unknown name or a missing, corrupt or incompatible file.

    `load_member` loads the models another one is made of (an ensemble's), e.g. through a cache; default `load`.
    """
    try:
        kind = kind_of(name)
    except UnknownModelError as exc:
        raise ModelLoadError(str(exc)) from None
    path = weights_path(name, directory)
    if not path.exists():
        raise ModelLoadError(f"{path}: no such model file. Retrain with: {retrain_command(name)}")
    try:
        network = kind.code().load_network(path, load_member or (lambda member: load(member, directory)))
        calibration = load_calibration(model_dir(name, directory))
    except ModelLoadError:
        raise  # a member's own error already names its file and command
    except Exception as exc:  # any reader's failure means the same thing here: this file is unusable
        raise ModelLoadError(f"{path}: cannot load ({exc}). Retrain with: {retrain_command(name)}") from exc
    return Model(name, network, calibration.temperature, calibration.unsure_below)


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
    """The top answer and the runner-up of one row of ten probabilities; unsure under the threshold."""
    best, second = np.argsort(-np.asarray(probabilities))[:2]
    return Reading(int(best), float(probabilities[best]), int(second), float(probabilities[second]), unsure_below)

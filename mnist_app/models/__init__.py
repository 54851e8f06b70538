"""The models behind one contract (mnist_app.contract): the table of kinds (kinds.py), the NumPy network written from
scratch (numpy_net.py), the Keras networks (keras_config.py, keras_models.py), the ensemble (ensemble.py), each
model's honest confidence (calibration.py) and a taught model's prototypes (prototypes.py). `load(name)` and the
models folder's layout (loading.py) are exported here: `from mnist_app import models; models.load("ensemble")`.

Imports data and the foundation; never store, training, reports or ui.
"""

from mnist_app.models.loading import (
    CALIBRATED,
    ENSEMBLE_MEMBERS_ONLY,
    MODELS_DIR,
    SHIPPED,
    TWINS_FOLDER,
    UNSURE_BELOW,
    Model,
    ModelLoadError,
    Reading,
    UnknownModelError,
    available,
    calibrate_command,
    label_of,
    load,
    model_dir,
    present,
    read,
    retrain_command,
    stamp,
    twins_dir,
    version,
    weights_path,
)

__all__ = [
    "MODELS_DIR",
    "ENSEMBLE_MEMBERS_ONLY",
    "CALIBRATED",
    "TWINS_FOLDER",
    "ModelLoadError",
    "label_of",
    "model_dir",
    "twins_dir",
    "weights_path",
    "stamp",
    "version",
    "retrain_command",
    "calibrate_command",
    "available",
    "present",
    "Model",
    "load",
    "Reading",
    "read",
    "SHIPPED",
    "UNSURE_BELOW",
    "UnknownModelError",
]

"""The NumPy trainer's state at the end of an epoch, saved to a folder and read back, so that a run whose worker died
goes on from its last finished epoch exactly as if it had never stopped: the weights, the optimizer's buffers and
step count, the shuffling generator, the history and the epoch an early stop would keep. No pickle: arrays in an .npz
and the rest as JSON inside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_app.artifacts import atomic_path

STATE_FILE = "numpy-state.npz"
PARTS = ("params", "m", "v", "kept")  # the state's arrays, by name


@dataclass
class TrainerState:
    """Where training stands after `epochs` finished epochs."""

    epochs: int
    params: dict[str, np.ndarray]
    m: dict[str, np.ndarray]  # the optimizer's buffers (momentum or Adam's first moment; RMSprop and Adam's second)
    v: dict[str, np.ndarray]
    steps: int
    rng: dict  # the shuffling generator's bit_generator.state
    history: dict[str, list[float]]
    kept: dict[str, np.ndarray]  # the weights a stop returns (the best epoch's, with early stopping)
    best: tuple[float, int]  # (its validation loss, its epoch)


def save(folder: Path, state: TrainerState) -> None:
    """Write `state` into `folder`, whole or not at all (written beside, then renamed over the last)."""
    arrays = {f"{part}.{name}": value for part in PARTS for name, value in getattr(state, part).items()}
    about = {key: getattr(state, key) for key in ("epochs", "steps", "rng", "history", "best")}
    with atomic_path(folder / STATE_FILE) as partial:
        np.savez(partial, about=np.array(json.dumps(about)), **arrays)


def load(folder: Path | None) -> TrainerState | None:
    """The state saved in `folder`, or None when there is none."""
    if folder is None or not (folder / STATE_FILE).is_file():
        return None
    with np.load(folder / STATE_FILE) as saved:
        about = json.loads(str(saved["about"]))
        parts = {part: {} for part in PARTS}
        for key in saved.files:
            if key != "about":
                part, name = key.split(".", 1)
                parts[part][name] = saved[key]
    best = about["best"]
    return TrainerState(
        about["epochs"],
        parts["params"],
        parts["m"],
        parts["v"],
        about["steps"],
        about["rng"],
        about["history"],
        parts["kept"],
        (float(best[0]), int(best[1])),
    )

"""A trained model's reports: what train.py writes and the Diagnostics page reads.

Per model folder: `history.json` (per-epoch loss and accuracy, train and validation),
`report.json` (test metrics, config, data, versions, time) and `misclassified.npz`
(the test digits it gets wrong, most confident mistakes first); and, for train.py's models, `report.png`, the same
report as one picture to keep or download (figure.py; the Diagnostics page draws it on click for the others).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnist_app.artifacts import atomic_path, read_json, write_json
from mnist_app.contract import HISTORY_KEYS, empty_history
from mnist_app.data.pen_training import CALIBRATION_WRITERS, TWIN_WRITERS
from mnist_app.models import CALIBRATED, UNSURE_BELOW, calibrate_command, label_of, model_dir, twins_dir
from mnist_app.models.kinds import NAMES, preset
from mnist_app.reports.metrics import classification_report, top_confusions

GALLERY_SIZE = 64
FIGURE = "report.png"  # figure.py draws it
DRAWN_RESULTS = "drawn-digits.json"  # benchmarks/drawn_digits.py's results, in the models folder


class ReportMissingError(FileNotFoundError):
    """A model has no (readable) reports yet."""


class SeenWritersError(ValueError):
    """A model would be measured on pen writers it trained on: its numbers would flatter it."""


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shaped a model (TensorFlow only if it was imported)."""
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for module in ("keras", "tensorflow", "jax"):
        if module in sys.modules:
            versions[module] = getattr(sys.modules[module], "__version__", "unknown")
    return versions


@dataclass(frozen=True)
class Reports:
    """What train.py wrote about one model."""

    history: dict[str, list[float]]  # per-epoch lists, HISTORY_KEYS; empty for a model that trains nothing itself
    report: dict  # test metrics, config, data, versions, time
    gallery: dict[str, np.ndarray]  # the test digits it gets wrong, most confident first


@dataclass(frozen=True)
class Stage:
    """One training run in a model's whole history: the model it made, and its epochs' numbers in that history."""

    model: str
    first: int  # 1-based
    last: int
    augmented: bool  # its training digits were distorted afresh every epoch


@dataclass(frozen=True)
class WholeHistory:
    """A model's training from random weights: per-epoch lists (HISTORY_KEYS) over every stage, oldest first."""

    history: dict[str, list[float]]
    stages: tuple[Stage, ...]


def build_report(name: str, config, y_true: np.ndarray, probs: np.ndarray, data: dict, training_seconds: float) -> dict:
    """Everything the Diagnostics page shows about a model's test results; `config` is its config dataclass."""
    return {
        "model": name,
        "kind": config.kind,
        "trains_itself": config.trains_itself,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "test": classification_report(y_true, probs.argmax(axis=1)),
        "config": {**asdict(config), "description": config.describe()},
        "data": data,
        "training_seconds": round(training_seconds, 1),
        "versions": library_versions(),
    }


def misclassified(images: np.ndarray, y_true: np.ndarray, probs: np.ndarray, limit: int = GALLERY_SIZE) -> dict:
    """The `limit` test digits the model gets wrong with the most confidence."""
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:limit]
    return {
        "images": images[wrong].astype(np.uint8),
        "true": y_true[wrong].astype(np.int64),
        "predicted": predicted[wrong].astype(np.int64),
        "confidence": probs[wrong, predicted[wrong]].astype(np.float32),
        "index": wrong.astype(np.int64),
    }


def write_reports(directory: Path, history: dict, report: dict, gallery: dict) -> None:
    """Write the three report files, each atomically (the picture is write_figure's)."""
    write_json(directory / "history.json", {k: history[k] for k in HISTORY_KEYS})
    with atomic_path(directory / "misclassified.npz") as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **gallery)
    write_json(directory / "report.json", report)


def write_figure(directory: Path, history: dict | None = None, report: dict | None = None) -> Path:
    """Draw `report.png` from the history and report given, else from the folder's own files (no retraining)."""
    from mnist_app.reports import figure  # seaborn and the pyplot it imports load only here: the pages never draw it

    history = read_history(directory) if history is None else history
    return figure.write(Path(directory) / FIGURE, history, read_report(directory) if report is None else report)


def report_png(directory: Path) -> bytes:
    """The folder's `report.png`; drawn from its reports, and not written, where it has none (the Train page's runs
    and taught models are written without one: it cost a run's end 1.3-5 s of CPU, and few are downloaded)."""
    path = Path(directory) / FIGURE
    if path.is_file():
        return path.read_bytes()
    from mnist_app.reports import figure

    return figure.png(read_history(directory), read_report(directory))


def read(directory: Path) -> Reports:
    """A model folder's three report files; ReportMissingError names the first one missing or unreadable."""
    return Reports(read_history(directory), read_report(directory), read_misclassified(directory))


def read_history(directory: Path) -> dict[str, list[float]]:
    history = _read(directory / "history.json")
    if any(not isinstance(history.get(k), list) for k in HISTORY_KEYS):
        raise ReportMissingError(f"{directory / 'history.json'}: missing one of {HISTORY_KEYS}")
    return history


def whole_history(name: str, models_dir: str | Path | None = None) -> WholeHistory:
    """A model's history from random weights: a fine-tune's history.json holds its own epochs only, so the history
    of the model its config starts from (`start_from`, and so on back) comes first. A starting point without reports
    is left out; the model's own missing reports are a ReportMissingError."""

    def files(model: str) -> tuple[str, dict, dict]:
        return model, read_history(model_dir(model, models_dir)), read_report(model_dir(model, models_dir))

    chain = [files(name)]  # newest first
    while (start := chain[-1][2]["config"].get("start_from")) and start not in [model for model, _, _ in chain]:
        try:
            chain.append(files(start))
        except ReportMissingError:
            break
    history, stages = empty_history(), []
    for model, own, report in reversed(chain):
        first = len(history["loss"]) + 1
        history = {key: history[key] + own[key] for key in HISTORY_KEYS}
        stages.append(Stage(model, first, len(history["loss"]), bool(report["config"].get("augment"))))
    return WholeHistory(history, tuple(stages))


def read_report(directory: Path) -> dict:
    report = _read(directory / "report.json")
    if "test" not in report or "confusion_matrix" not in report["test"]:
        raise ReportMissingError(f"{directory / 'report.json'}: no test results in it")
    return report


def pen_writers_behind(name: str, directory: str | Path | None = None) -> list[int]:
    """The pen writers a trained model's readings rest on, from its own report or its ensemble members'."""
    behind = [read_report(model_dir(m, directory)) for m in getattr(preset(name), "members", (name,))]
    return sorted({w for report in behind for w in report["data"].get("pen_writers", ())})


def refuse_seen_writers(names: list[str], directory: str | Path | None, writers: set[int]) -> None:
    """SeenWritersError, naming each model and the writers it saw, when any model trained on one of `writers`."""
    seen = {name: sorted(writers & set(pen_writers_behind(name, directory))) for name in names}
    if any(seen.values()):
        listed = "; ".join(f"{name} on writers {w}" for name, w in seen.items() if w)
        twins = CALIBRATION_WRITERS
        raise SeenWritersError(
            f"trained on the writers to measure: {listed}. Measure other writers, or the tuning twins "
            f"(--models-dir {twins_dir(directory)}), which left writers {twins[0]}-{twins[-1]} out."
        )


def read_misclassified(directory: Path) -> dict[str, np.ndarray]:
    path = directory / "misclassified.npz"
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in ("images", "true", "predicted", "confidence")}
    except (OSError, ValueError, KeyError) as exc:
        raise ReportMissingError(f"{path}: cannot read ({exc})") from exc


def _read(path: Path) -> dict:
    if not path.exists():
        raise ReportMissingError(f"{path}: not found")
    try:
        return read_json(path)
    except ValueError as exc:
        raise ReportMissingError(str(exc)) from exc


def reported_models(models_dir: Path, names: tuple[str, ...] = NAMES) -> dict[str, Path]:
    """Every model (of `names`, in that order) whose folder holds a report.json."""
    folders = {name: model_dir(name, models_dir) for name in names}
    return {name: folder for name, folder in folders.items() if (folder / "report.json").is_file()}


def per_class_rows(report: dict) -> list[dict]:
    """The per-class table, then macro and weighted averages, as rows."""
    test = report["test"]
    rows = [{"class": k, **v} for k, v in test["per_class"].items()]
    total = sum(row["support"] for row in rows)
    rows += [
        {"class": f"{avg.replace('_avg', '')} avg", **test[avg], "support": total}
        for avg in ("macro_avg", "weighted_avg")
    ]
    return rows


def confusion_sentences(matrix: list[list[int]], k: int = 5) -> list[str]:
    """The most frequent mistakes in words: '4 read as 9: 12 times'."""
    return [f"{t} read as {p}: {c} time{'s' if c != 1 else ''}" for t, p, c in top_confusions(np.array(matrix), k)]


def read_drawn_results(models_dir: Path) -> dict:
    """The drawn-digit benchmark's results (benchmarks/drawn_digits.py), or {} if it has not been run."""
    path = models_dir / DRAWN_RESULTS
    try:
        return read_json(path) if path.exists() else {}
    except ValueError:
        return {}


def side_by_side(report: dict, drawn: dict | None) -> list[dict]:
    """MNIST accuracy, drawn-digit accuracy, worst writer and calibration as rows of (measure, value, where)."""
    fit = report.get("calibration") or {}
    rows = [{"measure": "MNIST test accuracy", "value": f"{report['test']['accuracy']:.2%}", "on": "MNIST test set"}]
    if drawn:
        held_out = "drawn digits, held-out writers (benchmarks/drawn_digits.py)"
        worst = drawn.get("worst_writer")
        rows += [
            {"measure": "drawn accuracy", "value": f"{drawn['accuracy']:.2%}", "on": held_out},
            {
                "measure": "worst writer",
                "value": f"{worst['accuracy']:.2%} (writer {worst['writer']})" if worst else "not measured",
                "on": held_out,
            },
        ]
        if "sure_accuracy" in drawn:
            rows += [
                {"measure": "sure readings right", "value": f"{drawn['sure_accuracy']:.2%}", "on": held_out},
                {"measure": "flagged unsure", "value": f"{drawn['flagged']:.2%}", "on": held_out},
                {
                    "measure": "ECE before -> after",
                    "value": f"{drawn['ece_before']:.4f} -> {drawn['ece_after']:.4f}",
                    "on": held_out,
                },
            ]
    if fit:
        calibrated, twin = CALIBRATION_WRITERS, TWIN_WRITERS
        rows.append(
            {
                "measure": "calibration fit: ECE before -> after",
                "value": f"{fit['ece_before']:.4f} -> {fit['ece_after']:.4f}",
                "on": f"drawings of writers {calibrated[0]}-{calibrated[-1]}, read by its tuning twin "
                f"(trained on writers {twin[0]}-{twin[-1]})",
            }
        )
    return rows


def uncalibrated_note(name: str) -> str:
    """Why a model has no calibration: one the app reads with has not been fitted yet (the command fits it, training
    nothing: never a retrain); a comparison never is, as the app does not read with it."""
    if name in CALIBRATED:
        return (
            f"Not calibrated yet: it says unsure below {UNSURE_BELOW:.0%}. Fit its temperature and unsure-threshold, "
            f"without training, with: `{calibrate_command(name)}`"
        )
    return (
        f"Not calibrated: {label_of(name)} is a comparison, and the app does not read drawings with it, so it has no "
        "temperature or unsure-threshold of its own."
    )

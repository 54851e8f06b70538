"""Honest confidence: a temperature and an unsure-threshold per model, fitted on drawings its tuning twin never saw.

A network's top probability is not the chance that it is right: the models here are over-confident on
drawn digits. Temperature scaling (Guo et al., 2017) divides the log-probabilities by one number T fitted
to minimise the negative log-likelihood on held-aside drawings; it never changes which digit wins. The
threshold is then the lowest top probability at which the fitted drawings' readings were right often
enough. Expected calibration error (ECE) measures the gap between confidence and accuracy:

    ECE = sum over bins b of (n_b / n) * |accuracy_b - confidence_b|     (equal-width bins of top probability)

Fit on pen-digit writers 1-20 only (pendigits.check_trainable), never on the held-out 21-30.
This module never imports TensorFlow or streamlit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mnist_app.artifacts import read_json, write_json

FILE = "calibration.json"
FORMAT_VERSION = 1
BINS = 15
FLOOR = 0.5  # the app's old rule: below an even chance a reading is always unsure
T_RANGE = (0.05, 20.0)


@dataclass(frozen=True)
class Calibration:
    """What a model applies to its probabilities (temperature) and how sure it must be (unsure_below)."""

    temperature: float = 1.0
    unsure_below: float = FLOOR
    fitted_on: str = ""  # which drawings, in words
    ece_before: float | None = None
    ece_after: float | None = None
    target_sure_accuracy: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {self.temperature}")
        if not 0.0 <= self.unsure_below <= 1.0:
            raise ValueError(f"unsure_below is a probability, got {self.unsure_below}")


def tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """(n, 10) probabilities -> softmax(log p / T): T > 1 softens, T < 1 sharpens; the argmax is unchanged."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(true label); the clip keeps a zero probability finite."""
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0))))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T that minimises the NLL of `tempered(probabilities, T)`, searched in log space within T_RANGE."""
    from scipy.optimize import minimize_scalar  # only when fitting: the app loads this module, never fits

    _check(probabilities, labels)
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(tempered(probabilities, float(np.exp(log_t))), labels),
        bounds=tuple(np.log(T_RANGE)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(result.x))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict[str, list]:
    """Per equal-width bin of top probability: its edges, count, mean confidence and accuracy (None if empty)."""
    _check(probabilities, labels)
    confidence, right = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)  # (lo, hi]; 0 joins bin 0
    counts = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=bins)
    right_sum = np.bincount(which, weights=right.astype(np.float64), minlength=bins)
    nonempty = counts > 0
    return {
        "edges": edges.tolist(),
        "count": counts.tolist(),
        "confidence": [float(c / n) if n else None for c, n in zip(conf_sum, counts, strict=True)],
        "accuracy": [float(r / n) if n else None for r, n in zip(right_sum, counts, strict=True)],
        "ece": float(np.sum(np.abs(right_sum[nonempty] - conf_sum[nonempty])) / len(labels)),
    }


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """ECE: the count-weighted mean gap between accuracy and confidence over equal-width bins."""
    return reliability(probabilities, labels, bins)["ece"]


def threshold_for(probabilities: np.ndarray, labels: np.ndarray, target: float) -> float:
    """The lowest top probability t (at least FLOOR) such that readings with top >= t are right >= `target`.

    Lowest, so that as few readings as possible are flagged unsure; 1.0 if no t reaches the target.
    """
    _check(probabilities, labels)
    confidence, right = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    order = np.argsort(-confidence, kind="stable")
    accuracy_of_top_k = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    reachable = np.flatnonzero(accuracy_of_top_k >= target)
    if len(reachable) == 0:
        return 1.0
    k = reachable[-1]
    # ties: t = confidence[order[k]] keeps every reading at least that confident, so check them together
    while k >= 0 and np.mean(right[confidence >= confidence[order[k]]]) < target:
        k -= 1
    return max(FLOOR, float(confidence[order[k]])) if k >= 0 else 1.0


def sure_summary(probabilities: np.ndarray, labels: np.ndarray, unsure_below: float) -> dict[str, float]:
    """Accuracy, accuracy of the sure readings, and the share flagged unsure, at a threshold."""
    _check(probabilities, labels)
    sure = probabilities.max(axis=1) >= unsure_below
    right = probabilities.argmax(axis=1) == labels
    return {
        "accuracy": float(right.mean()),
        "sure_accuracy": float(right[sure].mean()) if sure.any() else float("nan"),
        "flagged": float(1 - sure.mean()),
    }


def fit(probabilities: np.ndarray, labels: np.ndarray, target: float, fitted_on: str) -> Calibration:
    """Temperature first, then the threshold on the tempered probabilities."""
    temperature = fit_temperature(probabilities, labels)
    after = tempered(probabilities, temperature)
    return Calibration(
        temperature=temperature,
        unsure_below=threshold_for(after, labels, target),
        fitted_on=fitted_on,
        ece_before=expected_calibration_error(probabilities, labels),
        ece_after=expected_calibration_error(after, labels),
        target_sure_accuracy=target,
    )


def save(calibration: Calibration, folder: str | Path) -> None:
    """Write the model folder's calibration.json, atomically."""
    write_json(Path(folder) / FILE, {"format_version": FORMAT_VERSION, **asdict(calibration)})


def load(folder: str | Path) -> Calibration:
    """The model folder's calibration; the identity (T = 1, the old 50% rule) when it has none.

    ValueError when the file is there but unreadable: a broken calibration must not pass silently.
    """
    path = Path(folder) / FILE
    if not path.exists():
        return Calibration()
    meta = read_json(path)
    if meta.pop("format_version", None) != FORMAT_VERSION:
        raise ValueError(f"{path}: not a calibration file of format version {FORMAT_VERSION}")
    try:
        return Calibration(**meta)
    except TypeError as exc:
        raise ValueError(f"{path}: not a calibration ({exc})") from exc


def _check(probabilities: np.ndarray, labels: np.ndarray) -> None:
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or len(labels) == 0:
        raise ValueError(f"need (n, k) probabilities and n labels, got {probabilities.shape} and {len(labels)}")

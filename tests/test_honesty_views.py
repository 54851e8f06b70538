"""The Diagnostics page's honesty section: its table rows (the reliability diagram: test_charts.py)."""

import numpy as np

from mnist_app import reports
from mnist_app.models import calibration


def calibrated_report() -> dict:
    probs = np.tile(np.eye(10)[[3]] * 0.8 + 0.02, (4, 1))
    labels = np.array([3, 3, 3, 5])
    fit = calibration.reliability(probs, labels)
    return {
        "test": {"accuracy": 0.991},
        "calibration": {"ece_before": 0.05, "ece_after": 0.01, "reliability_before": fit, "reliability_after": fit},
    }


def test_side_by_side_shows_mnist_drawn_worst_writer_and_calibration():
    drawn = {
        "accuracy": 0.97,
        "worst_writer": {"writer": 24, "accuracy": 0.93},
        "sure_accuracy": 0.995,
        "flagged": 0.04,
        "ece_before": 0.03,
        "ece_after": 0.01,
    }
    rows = {r["measure"]: r["value"] for r in reports.side_by_side(calibrated_report(), drawn)}
    assert rows["MNIST test accuracy"] == "99.10%" and rows["drawn accuracy"] == "97.00%"
    assert rows["worst writer"] == "93.00% (writer 24)" and rows["flagged unsure"] == "4.00%"
    assert rows["calibration fit: ECE before -> after"] == "0.0500 -> 0.0100"


def test_side_by_side_without_drawn_results_shows_mnist_only():
    rows = reports.side_by_side({"test": {"accuracy": 0.99}}, None)
    assert [r["measure"] for r in rows] == ["MNIST test accuracy"]

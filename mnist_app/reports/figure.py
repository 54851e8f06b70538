"""A model's report as one picture, `report.png` beside its `report.json`: the training curves, per-class
precision, recall and F1, and the confusion matrix as an annotated seaborn heatmap.

The Diagnostics page draws the same numbers live in the browser (charts.py); this file is the report to keep,
attach or download, readable without the app. Plain Figures on the Agg canvas, never pyplot's state: safe in any
thread and on a machine without a display. Seaborn draws into the axes it is given.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from mnist_app.artifacts import atomic_path

DPI = 80  # 880 x 680 px: every count in the matrix readable, about 100 KB a model
SIZE = (11, 8.5)  # inches
SPLITS = {"train": "", "validation": "val_"}  # history keys: loss, val_loss, ...
SCORES = ("precision", "recall", "f1")


def report_figure(history: dict[str, list[float]], report: dict) -> Figure:
    """Loss and accuracy per epoch (top), per-class scores and the confusion matrix (bottom), titled with the
    model, its test accuracy and its description. An empty history (an ensemble) says it has no epochs."""
    figure = Figure(figsize=SIZE, layout="constrained")
    FigureCanvasAgg(figure)  # PNG through Agg, whatever matplotlib's default backend
    axes = figure.subplot_mosaic([["loss", "accuracy"], ["scores", "confusion"]])
    loss = report["config"].get("loss", "categorical_crossentropy").replace("_", " ")
    training_curve(axes["loss"], history, "loss", f"Loss ({loss})")
    training_curve(axes["accuracy"], history, "accuracy", "Accuracy")
    per_class_scores(axes["scores"], report["test"])
    confusion_heatmap(axes["confusion"], report["test"]["confusion_matrix"])
    test = report["test"]
    title = f"{report['model']}: {test['accuracy']:.2%} of {report['data'].get('n_test', 10000):,} MNIST test digits"
    description = textwrap.fill(report["config"].get("description", ""), 130)
    figure.suptitle(f"{title}\n{description}".strip(), fontsize=11)
    return figure


def training_curve(ax, history: dict[str, list[float]], metric: str, title: str) -> None:
    """One metric per epoch, train against validation; a note instead for a model with no epochs of its own."""
    ax.set_title(title, fontsize=10)
    if not history.get(metric):
        ax.text(0.5, 0.5, "No epochs of its own:\nit reads with trained models", ha="center", va="center")
        ax.set_axis_off()
        return
    rows = pd.DataFrame(
        [
            {"epoch": epoch, "split": split, metric: value}
            for split, prefix in SPLITS.items()
            for epoch, value in enumerate(history[prefix + metric], start=1)
        ]
    )
    sns.lineplot(rows, x="epoch", y=metric, hue="split", marker="o", ax=ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs only
    ax.grid(alpha=0.3)
    ax.legend(title=None)


def per_class_scores(ax, test: dict) -> None:
    """Precision, recall and F1 of each digit as points: they sit near 1, where bars from 0 would all look alike."""
    rows = pd.DataFrame(
        [{"digit": d, "measure": m, "score": s[m]} for d, s in test["per_class"].items() for m in SCORES]
    )
    sns.pointplot(rows, x="digit", y="score", hue="measure", dodge=0.4, linestyle="none", markers="o", ax=ax)
    macro = test["macro_avg"]
    averages = ", ".join(f"{m} {macro[m]:.2%}" for m in SCORES)
    ax.set_title(f"Per digit (macro averages: {averages})", fontsize=10)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title=None, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.12))  # below: clear of the points


def confusion_heatmap(ax, matrix: list[list[int]]) -> None:
    """Counts of each true digit (rows) read as each digit (columns), every count written in its cell.

    The colours top out at twice the largest mistake, so mistakes stand out instead of the diagonal."""
    counts = np.asarray(matrix)
    mistakes = counts - np.diag(np.diag(counts))
    sns.heatmap(
        counts, annot=True, fmt="d", cmap="Blues", vmin=0, vmax=max(2 * int(mistakes.max()), 1), cbar=False, ax=ax
    )
    ax.tick_params(labelsize=8)
    ax.set(xlabel="read as", ylabel="true digit")
    ax.set_title("Confusion matrix (test set)", fontsize=10)
    for text in ax.texts:
        text.set_fontsize(7)


def png(history: dict[str, list[float]], report: dict) -> bytes:
    """The report drawn as PNG bytes."""
    buffer = io.BytesIO()
    report_figure(history, report).savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def write(path: str | Path, history: dict[str, list[float]], report: dict) -> Path:
    """Draw the report and write it to `path` (a .png), atomically; its path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(png(history, report))
    return path

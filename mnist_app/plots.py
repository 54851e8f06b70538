"""Figures for the Diagnostics page. Plain matplotlib Figures (no pyplot state): safe in threads."""

from __future__ import annotations

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure


def training_curves(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch, train against validation, side by side."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[metric], marker=".", label="train")
        ax.plot(epochs, history[f"val_{metric}"], marker=".", label="validation")
        ax.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def confusion_heatmap(matrix: list[list[int]] | np.ndarray) -> Figure:
    """The confusion matrix, true labels down, predictions across; the diagonal dimmed so errors stand out."""
    matrix = np.asarray(matrix)
    fig = Figure(figsize=(5.5, 4.6), layout="constrained")
    ax = fig.subplots()
    errors = np.ma.masked_array(matrix, mask=np.eye(len(matrix), dtype=bool))
    sns.heatmap(
        matrix,
        annot=True,
        fmt="d",
        cmap="Blues",
        cbar=False,
        ax=ax,
        annot_kws={"size": 7},
        vmax=max(int(errors.max() or 1) * 2, 1),
    )
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test set)")
    return fig


def misclassified_grid(gallery: dict[str, np.ndarray], limit: int = 32, columns: int = 8) -> Figure:
    """Wrongly read test digits, titled 'true → predicted (confidence)'."""
    count = min(limit, len(gallery["images"]))
    rows = max(1, int(np.ceil(count / columns)))
    fig = Figure(figsize=(columns * 1.1, rows * 1.3), layout="constrained")
    for i, ax in enumerate(np.ravel(fig.subplots(rows, columns, squeeze=False))):
        ax.axis("off")
        if i < count:
            ax.imshow(gallery["images"][i], cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{gallery['true'][i]}→{gallery['predicted'][i]} ({gallery['confidence'][i]:.0%})", fontsize=8)
    return fig


def comparison_curves(histories: dict[str, dict[str, list[float]]]) -> Figure:
    """Validation accuracy and loss of several models on one pair of axes."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    for ax, metric in zip(fig.subplots(1, 2), ("val_accuracy", "val_loss"), strict=True):
        for name, history in histories.items():
            ax.plot(np.arange(1, len(history[metric]) + 1), history[metric], label=name)
        ax.set(xlabel="epoch", ylabel=metric.replace("_", " "), title=metric.replace("val_", "Validation "))
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=7)
    return fig


def enlarge(digit: np.ndarray, factor: int = 8) -> np.ndarray:
    """A 28x28 digit in [0, 1] as an enlarged uint8 image with a faint grid, so each pixel is visible."""
    big = np.kron(np.clip(digit, 0, 1), np.ones((factor, factor)))
    big[::factor, :] = np.maximum(big[::factor, :], 0.15)
    big[:, ::factor] = np.maximum(big[:, ::factor], 0.15)
    return (big * 255).astype(np.uint8)


def reliability_diagram(curves: dict[str, dict]) -> Figure:
    """Accuracy against confidence per bin (calibration.reliability), one line per curve; the diagonal is honest.

    Points above the diagonal: the model was right more often than it claimed; below: over-confident.
    """
    fig = Figure(figsize=(4.6, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="honest")
    for name, curve in curves.items():
        points = [(c, a) for c, a in zip(curve["confidence"], curve["accuracy"], strict=True) if c is not None]
        confidence, accuracy = zip(*points, strict=True) if points else ((), ())
        ax.plot(confidence, accuracy, marker="o", markersize=4, label=f"{name} (ECE {curve['ece']:.3f})")
    ax.set(xlabel="confidence (top probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.02))
    ax.set_title("Reliability on drawn digits", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig

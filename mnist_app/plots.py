"""Figures and images for the pages. Plain matplotlib Figures (no pyplot state): safe in Streamlit's threads."""

from __future__ import annotations

import io

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def training_curves(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch, train against validation, side by side."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[metric], marker=".", label="train")
        ax.plot(epochs, history[f"val_{metric}"], marker=".", label="validation")
        ax.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
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
        annot_kws={"size": 9},
        vmax=max(int(errors.max() or 1) * 2, 1),
    )
    ax.set(xlabel="read as", ylabel="true digit", title="Confusion matrix (test set)")
    ax.tick_params(axis="y", labelrotation=0)
    return fig


def misclassified_grid(gallery: dict[str, np.ndarray], limit: int = 32, columns: int = 8) -> Figure:
    """Wrongly read test digits, each titled 'true→predicted (confidence)'.

    One image of tiled digits on one axes: drawing 32 small axes took a second, this takes a fraction.
    """
    count = min(limit, len(gallery["images"]))
    rows = max(1, int(np.ceil(count / columns)))
    gap = 10  # pixels above each digit, for its title
    tile = 28 + gap
    sheet = np.full((rows * tile, columns * tile), 255, dtype=np.uint8)  # white between the digits
    fig = Figure(figsize=(columns * 1.1, rows * 1.3), layout="constrained")
    ax = fig.subplots()
    for i in range(count):
        top, left = (i // columns) * tile + gap, (i % columns) * tile
        sheet[top : top + 28, left : left + 28] = gallery["images"][i]
        title = f"{gallery['true'][i]}→{gallery['predicted'][i]} ({gallery['confidence'][i]:.0%})"
        ax.text(left + 14, top - 2, title, ha="center", va="bottom", fontsize=8)
    ax.imshow(sheet, cmap="gray", vmin=0, vmax=255)
    ax.axis("off")
    return fig


def comparison_curves(histories: dict[str, dict[str, list[float]]], losses: dict[str, str]) -> Figure:
    """Validation accuracy of several models on one plot, and their losses, one plot per kind of loss.

    `losses` names each model's loss: cross-entropies of different kinds are not on one scale.
    """
    kinds = sorted(set(losses.values()))
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, 1 + len(kinds))
    colours = dict(zip(histories, sns.color_palette("tab10", len(histories)), strict=True))
    for name, history in histories.items():
        epochs = np.arange(1, len(history["val_accuracy"]) + 1)
        axes[0].plot(epochs, history["val_accuracy"], label=name, color=colours[name])
        loss_axis = axes[1 + kinds.index(losses[name])]
        loss_axis.plot(epochs, history["val_loss"], color=colours[name])
    axes[0].set(ylabel="validation accuracy", title="Validation accuracy")
    for loss, ax in zip(kinds, axes[1:], strict=True):
        ax.set(ylabel="validation loss", title=loss.replace("_", " ").capitalize())
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=4, fontsize=9)
    return fig


def enlarge(digit: np.ndarray, factor: int = 8) -> np.ndarray:
    """A 28x28 digit in [0, 1] as an enlarged uint8 image with a faint grid, so each pixel is visible."""
    big = np.kron(np.clip(digit, 0, 1), np.ones((factor, factor)))
    big[::factor, :] = np.maximum(big[::factor, :], 0.15)
    big[:, ::factor] = np.maximum(big[:, ::factor], 0.15)
    return (big * 255).astype(np.uint8)


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    """A figure rendered once, as PNG bytes: the pages cache these instead of redrawing on every rerun."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


EVIDENCE_COLOURS = "RdBu_r"  # diverging: red is evidence for the digit, blue against it, white nothing


def saliency_overlay(image: np.ndarray, evidence: np.ndarray, title: str, for_: str, against: str) -> Figure:
    """The model's 28x28 input, dimmed, with a signed map laid over it, and a legend naming both directions.

    The overlay's opacity follows the map's strength, so pixels that carry no evidence leave the digit visible.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    limit = float(np.abs(evidence).max()) or 1.0
    norm, colours = Normalize(-limit, limit), colormaps[EVIDENCE_COLOURS]
    overlay = colours(norm(evidence))
    overlay[..., 3] = np.clip(2 * np.abs(evidence) / limit, 0.0, 1.0)
    fig = Figure(figsize=(3.3, 2.9), layout="constrained")
    ax = fig.subplots()
    ax.imshow(image, cmap="gray", vmin=0, vmax=2)  # the ink at half brightness: the colours stand out on it
    ax.imshow(overlay)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    legend = fig.colorbar(ScalarMappable(norm, colours), ax=ax, ticks=[-limit, 0.0, limit], shrink=0.85)
    legend.ax.set_yticklabels([against, "none", for_], fontsize=8)
    return fig


def focus_panels(image: np.ndarray, panels: list) -> Figure:
    """What a network looks at (explain.Panel list): signed maps (a unit's weights) in diverging colours,
    heat maps (Grad-CAM) laid over the dimmed digit."""
    import textwrap

    columns = min(len(panels), 2)
    rows = int(np.ceil(len(panels) / columns))
    fig = Figure(figsize=(3.3, 1.75 * rows if columns > 1 else 2.9), layout="constrained")
    for ax, panel in zip(np.ravel(fig.subplots(rows, columns, squeeze=False)), panels, strict=True):
        if panel.signed:
            limit = float(np.abs(panel.image).max()) or 1.0
            ax.imshow(panel.image, cmap=EVIDENCE_COLOURS, vmin=-limit, vmax=limit)
        else:
            ax.imshow(image, cmap="gray", vmin=0, vmax=2)
            ax.imshow(panel.image, cmap="inferno", vmin=0, vmax=1, alpha=0.6)
        ax.set_title("\n".join(textwrap.wrap(panel.title, 24)), fontsize=7)
        ax.axis("off")
    return fig


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

"""Pictures for the Draw page: the enlarged digit and the explanations. Plain matplotlib Figures (no pyplot
state): safe in Streamlit's threads. The other pages' charts are in charts.py."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def enlarge(digit: np.ndarray, factor: int = 8) -> np.ndarray:
    """A 28x28 digit in [0, 1] as an enlarged uint8 image with a faint grid, so each pixel is visible."""
    big = np.kron(np.clip(digit, 0, 1), np.ones((factor, factor)))
    big[::factor, :] = np.maximum(big[::factor, :], 0.15)
    big[:, ::factor] = np.maximum(big[:, ::factor], 0.15)
    return (big * 255).astype(np.uint8)


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

"""Why did the model say d? The explanation beside a reading: the evidence map, the contrast with the runner-up, and
what the network looks at, three panels of one size with their titles as text.

The toggle lives in a fragment with the panels, so opening the explanation reruns this fragment alone, not the page.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app import models
from mnist_app.reading import explain
from mnist_app.reports import plots


@st.fragment
def show(model: models.Model, digit: np.ndarray, reading: models.Reading) -> None:
    """The Explain toggle and, once it is on, the three views of one (28, 28) digit's reading."""
    if not st.toggle("Explain this reading", key="explain", help="What in the drawing made the model say it"):
        return
    d, other = reading.digit, reading.runner_up
    try:  # one call for both maps: the contrast is the map for d less the map for the runner-up
        maps = explain.saliency(model, np.stack([digit, digit]), np.array([d, other]))
    except explain.ExplainError as exc:
        st.info(f"No explanation for this model: {exc}.")
        return
    titles, pictures, captions = st.columns(3), st.columns(3), st.columns(3)  # rows: the pictures line up
    titles[0].markdown(f"**What made it say {d}**")
    pictures[0].image(plots.evidence_panel(digit, maps[0]), width="stretch", output_format="PNG")
    captions[0].caption(f"Red ink pushed the model towards {d}, blue away from it.")
    titles[1].markdown(f"**Why {d} and not {other}**")
    pictures[1].image(plots.evidence_panel(digit, maps[0] - maps[1]), width="stretch", output_format="PNG")
    captions[1].caption(f"Red ink speaks for {d} over {other} (the runner-up), blue for {other}.")
    titles[2].markdown("**What it looks at**")
    _focus(model, digit, d, pictures[2], captions[2])


def _focus(model: models.Model, digit: np.ndarray, d: int, picture, caption) -> None:
    """The third view; a model without one says why in its place, and nothing more."""
    try:
        panels = explain.focus(model, digit, d)
    except explain.ExplainError as exc:
        picture.info(f"No such view for this model: {exc}.")
        return
    picture.image(plots.focus_panel(digit, panels), width="stretch", output_format="PNG")
    shown = panels[:16]  # what focus_panel tiles
    if any(p.signed for p in shown):
        words = f"Its {len(shown)} most active units' weights: red ink raises a unit, blue lowers it."
    else:
        words = f"{shown[0].title}: bright where the features that raise {d} fire."
    caption.caption(words, help="Left to right, top to bottom: " + "; ".join(p.title for p in shown))

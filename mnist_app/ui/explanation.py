"""Why did the model say d? The explanation under a reading: the evidence map, the contrast with the
runner-up, and what the network looks at. Drawn in a fragment, after the reading, so the reading never waits."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app import explain, models, plots


@st.fragment
def show(model: models.Model, digit: np.ndarray, reading: models.Reading) -> None:
    """The three views of one (28, 28) digit's reading; a model that cannot be explained says why, in place of each."""
    d, other = reading.digit, reading.runner_up
    evidence, contrast, looks = st.columns(3)
    with evidence:
        _figure(
            lambda: plots.saliency_overlay(
                digit, explain.saliency(model, digit[None], d)[0], f"What made it say {d}", f"for {d}", f"against {d}"
            )
        )
        st.caption(f"Red ink pushed the model towards {d}, blue away from it.")
    with contrast:
        _figure(
            lambda: plots.saliency_overlay(
                digit, explain.contrast(model, digit, d, other), f"Why {d} and not {other}", f"{d}", f"{other}"
            )
        )
        st.caption(f"Red ink speaks for {d} over {other} (the runner-up), blue for {other}.")
    with looks:
        _figure(lambda: plots.focus_panels(digit, explain.focus(model, digit, d)))
        st.caption("What the network looks at: its most active units' weights, or where its last convolution fires.")


def _figure(make) -> None:
    try:
        st.pyplot(make())
    except explain.ExplainError as exc:
        st.info(f"No such view for this model: {exc}.")

"""The Draw page's reading in words, and every model's reading side by side.

The headline says what the page knows, in one line above the canvas: the digit when the model is sure, both
candidates when it is not, and no digit at all when the drawing is not one digit (legibility.py: not a digit, or
several) or too small to read well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from mnist_app import models
from mnist_app.reading import legibility
from mnist_app.ui import runs
from mnist_app.ui.store import every_reading


def words(reading: models.Reading, problem: str | None, label: str) -> tuple[str, str]:
    """(headline, caption) for one reading by the model called `label`; `problem` is legibility.problem's."""
    d, p = reading.digit, f"probability {reading.probability:.1%}"
    if problem == legibility.NOT_A_DIGIT:
        return (
            "That does not look like a digit",
            f"A dot, a dash, a sign or a scribble? The model would say {d}, {p} · {label}",
        )
    if problem == legibility.SEVERAL_DIGITS:
        return "Looks like several digits", f"Number mode, above, reads them all. As one digit: {d}, {p} · {label}"
    if problem == legibility.TOO_SMALL:
        return "Too small to read well: draw it bigger", f"Or with a thinner brush. For now it reads {d}, {p} · {label}"
    if reading.unsure:
        other = f"{reading.runner_up_probability:.1%} for {reading.runner_up}"
        return f"Not sure: {d} or {reading.runner_up}?", f"{p} for {d}, {other} · {label}"
    return f"Prediction: {d}", f"{p} · {label}"


def comparison(digit: np.ndarray, labels: dict[str, str]) -> None:
    """Every offered model's answer for this digit (`labels`: name -> what the page calls it); a model that cannot
    be loaded is shown as unavailable."""
    readings = every_reading(digit, list(labels), runs.load)
    rows = [
        {"model": label, "prediction": str(int(np.argmax(p))), "probability": 100 * max(p)}
        if (p := readings.get(name)) is not None
        else {"model": label, "prediction": "unavailable", "probability": None}
        for name, label in labels.items()
    ]
    columns = {  # whole names, and every probability with one decimal ("100.0%" beside "99.9%", never "99.99%")
        "model": st.column_config.TextColumn("model", width="large"),
        "prediction": st.column_config.TextColumn("reads", width="small"),
        "probability": st.column_config.ProgressColumn(
            "probability", min_value=0.0, max_value=100.0, format="%.1f%%", width="medium"
        ),
    }
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=columns, width="stretch")

"""Draw page: a canvas, the chosen model's reading of it, and what the model sees."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_app import models
from mnist_app.drawings import StoreError
from mnist_app.plots import enlarge
from mnist_app.preprocess import EmptyCanvasError, canvas_to_mnist
from mnist_app.ui import explanation, runs, teach
from mnist_app.ui.store import collecting, every_reading, get_store, save_drawing

if "clears" not in st.session_state:
    st.session_state.clears = 0
    st.session_state.shown_drawing = st.session_state.cleared_drawing = None


def fingerprint(json_data: dict | None) -> str:
    """Identifies a drawing by its strokes."""
    objects = (json_data or {}).get("objects", [])
    return hashlib.sha1(json.dumps(objects, sort_keys=True).encode()).hexdigest()


def clear_canvas() -> None:
    # A changed initial drawing makes the canvas reload it in place: empty, history reset, no remount (a
    # remount would drop strokes drawn while the new canvas is built). Until the canvas reports back, the
    # drawing just cleared may still arrive: it is remembered so that it is never read again.
    st.session_state.clears += 1
    st.session_state.cleared_drawing = st.session_state.shown_drawing
    st.session_state.compare = False  # a comparison belongs to the drawing just cleared


st.title("Draw a digit")
names = runs.offered()
if not names:
    st.error("No trained model was found. Train them with: python train.py all")
    st.stop()
name = st.radio("Model", names, format_func=runs.label, horizontal=True, key="model")
try:
    with st.spinner("Loading the model…"):
        model = runs.load(name)
except models.ModelLoadError as exc:  # a broken model: say so kindly; the other choices above still work
    st.error(f"{runs.label(name)} cannot be used: {exc}")
    st.stop()

store, store_error = None, None
if collecting():
    try:
        store = get_store()
    except StoreError as exc:  # saving (and teaching) is off, reading goes on
        store_error = exc
teaching = (
    store is not None
    and runs.training_on()
    and st.toggle("Teach mode: it asks for each digit, and learns your handwriting", key="teach_mode")
)

headline = st.container()  # the reading goes above the canvas, so that a phone shows it without scrolling
left, right = st.columns([1, 1], gap="large")
with left:
    brush = st.slider("Brush width", min_value=6, max_value=40, value=20, key="brush")
    canvas = st_canvas(
        stroke_width=brush,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=280,
        height=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key="canvas",
        initial_drawing={"objects": [], "clears": st.session_state.clears},
    )
    st.button("Clear", on_click=clear_canvas, key="clear")
    st.caption(
        "Draw with the mouse, a finger or a pen; Clear starts again. Hover over the canvas for its toolbar: undo, "
        "redo and reset. Its pencil button switches to moving strokes instead of drawing (press it again to draw); "
        "send backward only reorders strokes."
    )
    compare = st.toggle("Compare every model on this drawing", key="compare")

st.session_state.shown_drawing = fingerprint(canvas.json_data)
cleared = st.session_state.shown_drawing == st.session_state.cleared_drawing
try:
    digit = None if cleared or canvas.image_data is None else canvas_to_mnist(canvas.image_data)
except EmptyCanvasError:
    digit = None

with headline:
    target = teach.prompt(store) if teaching else None
    if digit is None:
        if not teaching:
            st.subheader("Nothing drawn yet")
        st.caption("Draw a digit (0-9) on the black square: the model reads it after every stroke.")
        if teaching:
            teach.panel(store, name, model.label)
        st.stop()
    probs = model.predict_proba(digit[None])[0]
    reading = models.read(probs, model.unsure_below)
    if not teaching:
        st.subheader(f"Prediction: {reading.digit}")
    reads = f"It reads {reading.digit}, " if teaching else ""  # in teach mode, the prompt is the headline
    st.caption(f"{reads}probability {reading.probability:.1%} · {model.label}")

with right:
    if reading.unsure:
        st.warning(
            f"The model is unsure: {reading.digit} ({reading.probability:.0%}), or perhaps "
            f"{reading.runner_up} ({reading.runner_up_probability:.0%})."
        )
    if store_error is not None:
        st.caption(f"Saving drawings is off: {store_error}")
    elif teaching and target is not None:
        drawing = hashlib.sha1(digit.tobytes()).hexdigest()
        st.button(
            f"Keep as {target}",
            key="keep_prompted",
            type="primary",
            on_click=teach.keep_prompted,
            args=(store, digit, canvas.image_data, name, brush, drawing, target, clear_canvas),
        )
        if error := st.session_state.pop("save_error", None):
            st.error(f"Not saved: {error}")
    elif store is not None:
        drawing = hashlib.sha1(digit.tobytes()).hexdigest()  # what is saved: the same digit is the same drawing
        if st.session_state.get("save_label_for") != drawing:  # a new drawing: the picker starts at the reading
            st.session_state.save_label, st.session_state.save_label_for = reading.digit, drawing
        saved = st.session_state.get("saved", {}).get(drawing)
        pick, press = st.columns([1, 1], vertical_alignment="bottom")
        label = pick.selectbox("It is a", range(10), key="save_label", disabled=saved is not None)
        press.button(
            f"Saved as {saved[1]}" if saved else f"Save as {label}",
            key="save",
            disabled=saved is not None,
            on_click=save_drawing,
            args=(store, digit, canvas.image_data, name, brush, drawing),
        )
        if error := st.session_state.pop("save_error", None):
            st.error(f"Not saved: {error}")
        st.caption(
            "Saving keeps the drawing, the digit you pick, each model's reading, the brush width, the time and a "
            "random id of this visit: nothing about you."
        )
    st.bar_chart(
        pd.DataFrame({"probability": probs}, index=[str(d) for d in range(10)]),
        height=220,
        x_label="digit",
        y_label="probability",
    )
    st.image(enlarge(digit), caption="What the model sees: 28x28, white on black, centred as MNIST", width=224)
    explaining = st.toggle("Explain this reading", key="explain", help="What in the drawing made the model say it")

if explaining:
    explanation.show(model, digit, reading)

if teaching:
    teach.panel(store, name, model.label)

if compare:
    readings = every_reading(digit, names, runs.load)  # a model that cannot be loaded is shown as unavailable
    rows = [
        {"model": runs.label(other), "prediction": str(int(np.argmax(p))), "probability": max(p)}
        if (p := readings.get(other)) is not None
        else {"model": runs.label(other), "prediction": "unavailable", "probability": None}
        for other in names
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "probability": st.column_config.ProgressColumn(
                "probability", min_value=0.0, max_value=1.0, format="percent"
            )
        },
    )

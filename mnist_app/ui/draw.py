"""Draw page: a canvas, the chosen model's reading of it, and what the model sees.

One screen at 1280x800: the reading above the canvas (where a phone shows it without scrolling), the canvas on the
left, and on the right the two toggles, Compare and Explain, each with what it opens right under it.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from mnist_app import legibility, models
from mnist_app.drawings import StoreError
from mnist_app.plots import enlarge
from mnist_app.ui import explanation, reading, runs, sketchpad, teach
from mnist_app.ui.store import collecting, get_store, save_drawing

labels = runs.offered()  # name -> what the page calls it
names = list(labels)
if not names:
    st.error("No trained model was found. Train them with: python train.py all")
    st.stop()
if "model" not in st.session_state and st.query_params.get("model") in names:
    st.session_state.model = st.query_params["model"]  # a reload, or a shared link, opens on the model it names
choice, loading = st.columns([5, 1], vertical_alignment="bottom", wrap=False)
name = choice.radio("Model", names, format_func=labels.get, horizontal=True, key="model")
if st.query_params.get("model") != name:
    st.query_params["model"] = name

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
left, right = st.columns([1, 1.3], gap="large")
with left:
    sketch = sketchpad.show()
with right:
    compare = st.toggle("Compare every model on this drawing", key="compare")
    compared, explained = st.container(), st.container()  # each under its toggle

try:
    with loading, st.spinner("Loading…"):  # beside the model's name: the canvas never moves when it goes
        model = runs.load(name)
except models.ModelLoadError as exc:  # a broken model: say so kindly; the other choices above still work
    headline.error(f"{labels[name]} cannot be used: {exc}")
    st.stop()

with headline:
    target = teach.prompt(store) if teaching else None
    if sketch.digit is None:
        if not teaching:
            st.subheader("Nothing drawn yet")
        st.caption("Draw a digit (0-9) on the black square: the model reads it after every stroke.")
        if teaching:
            teach.panel(store, name, model.label)
        st.stop()
    probs = model.predict_proba(sketch.digit[None])[0]
    read = models.read(probs, model.unsure_below)
    title, caption = reading.words(read, legibility.problem(sketch.image), model.label)
    if teaching:  # the prompt is the headline
        st.caption(f"It reads {read.digit}, probability {read.probability:.1%} · {model.label}")
    else:
        st.subheader(title)
        st.caption(caption)

if compare:
    with compared:
        reading.comparison(sketch.digit, labels)
with explained:
    explanation.show(model, sketch.digit, read)

with right:
    if store_error is not None:
        st.caption(f"Saving drawings is off: {store_error.for_visitors}")
    elif teaching and target is not None:
        drawing = hashlib.sha1(sketch.digit.tobytes()).hexdigest()
        st.button(
            f"Keep as {target}",
            key="keep_prompted",
            type="primary",
            on_click=teach.keep_prompted,
            args=(store, sketch.digit, sketch.image, name, sketch.brush, drawing, target, sketchpad.clear),
        )
        if error := st.session_state.pop("save_error", None):
            st.error(f"Not saved: {error}")
    elif store is not None:
        drawing = hashlib.sha1(sketch.digit.tobytes()).hexdigest()  # what is saved: the same digit, the same drawing
        if st.session_state.get("save_label_for") != drawing:  # a new drawing: the picker starts at the reading
            st.session_state.save_label, st.session_state.save_label_for = read.digit, drawing
        saved = st.session_state.get("saved", {}).get(drawing)
        pick, press = st.columns([1, 1], vertical_alignment="bottom")
        label = pick.selectbox("It is a", range(10), key="save_label", disabled=saved is not None)
        press.button(
            f"Saved as {saved[1]}" if saved else f"Save as {label}",
            key="save",
            disabled=saved is not None,
            on_click=save_drawing,
            args=(store, sketch.digit, sketch.image, name, sketch.brush, drawing),
        )
        if error := st.session_state.pop("save_error", None):
            st.error(f"Not saved: {error}")
        last = st.session_state.get("last_saved")
        if last and last[2] == st.session_state.get("clears", 0) and saved is None:
            st.caption(f"Drawing #{last[0]} was saved as {last[1]}; the drawing changed since (Clear starts anew).")
        st.caption(
            "Saving keeps the drawing, the digit you pick, each model's reading, the brush width, the time and a "
            "random id of this visit: nothing about you."
        )
    chart, seen = st.columns([3, 2])
    chart.bar_chart(
        pd.DataFrame({"probability": probs}, index=[str(d) for d in range(10)]),
        height=200,
        x_label="digit",
        y_label="probability",
    )
    seen.image(enlarge(sketch.digit), caption="What the model sees: 28x28, centred as MNIST", width="stretch")

if teaching:
    teach.panel(store, name, model.label)

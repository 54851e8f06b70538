"""Draw page: a canvas, the chosen model's reading of it, and what the model sees.

The page holds still while a person draws. Above the canvas stand only things that never come or go between
strokes: one row of choices (the model, the mode) and the headline, a box of fixed height filled in place. Whatever
depends on the drawing (the Save or Keep button, the bars, teaching's panel) is beside or below the canvas.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from mnist_app import models, numbers
from mnist_app.reports.plots import reading_figure
from mnist_app.store.drawings import StoreError
from mnist_app.ui import explanation, number, photo, reading, runs, sketchpad, teach
from mnist_app.ui.store import collecting, get_store, save_drawing

HEADLINE_PX = 112  # a subheader and two lines of caption: a phone's width wraps the longest caption once
# The headline's box of fixed height, styled on itself: a :has() rule for its wrapper (what st.container(height=)
# sizes) made the browser's every style update slower. On a phone the longest headlines ("That does not look like a
# digit") wrap too: a smaller title, a taller box.
HEADLINE_STYLE = f"""<style>.st-key-headline {{ flex: 0 0 {HEADLINE_PX}px; height: {HEADLINE_PX}px; overflow-y: auto; }}
@media (max-width: 640px) {{
  .st-key-headline {{ flex-basis: 150px; height: 150px; }}
  .st-key-headline h3 {{ font-size: 1.4rem; }}
}}</style>"""
MODES = {"digit": "Digit", "number": "Number", "photo": "Photo", "teach": "Teach"}
MODE_HELP = (
    "Digit: draw one digit and watch the model read it. Number: write a whole number on a wide canvas. "
    "Photo: a photo of digits written on paper. Teach: it asks for each digit, and learns your handwriting."
)

labels = runs.offered()  # name -> what the page calls it
names = list(labels)
if not names:
    st.error("No trained model was found. Train them with: python train.py all")
    st.stop()
if "model" not in st.session_state and st.query_params.get("model") in names:
    st.session_state.model = st.query_params["model"]  # a reload, or a shared link, opens on the model it names

store, store_error = None, None
if collecting():
    try:
        store = get_store()
    except StoreError as exc:  # saving (and teaching) is off, reading goes on
        store_error = exc
modes = ["digit", "number", "photo"] + (["teach"] if store is not None and runs.training_on() else [])

choice, switch = st.columns([3, 2], vertical_alignment="bottom")  # one row; two on a phone, where four modes need it
name = choice.selectbox("Model", names, format_func=labels.get, key="model")
if st.query_params.get("model") != name:
    st.query_params["model"] = name
mode = switch.segmented_control(
    "Mode", modes, format_func=MODES.get, default="digit", required=True, key="mode", help=MODE_HELP
)
teaching = mode == "teach"

headline = st.container(border=False, key="headline")  # the reading, on a phone's first screen
st.html(HEADLINE_STYLE)  # style alone: it takes no room on the page


def loaded() -> models.Model:
    """The chosen model, loaded after the canvas is shown; a broken one is said in the headline, and the page stops
    there (the other choices above still work)."""
    try:
        if runs.is_loaded(name):  # every stroke but the first: no spinner to start and take down again
            return runs.load(name)
        with headline, st.spinner("Loading…"):  # inside the headline's fixed box: the canvas never moves when it goes
            return runs.load(name)
    except models.ModelLoadError as exc:
        headline.error(f"{labels[name]} cannot be used: {exc}")
        st.stop()


if mode == "number":
    sketch = sketchpad.show(number.WIDTH, number.KEY)
    model = loaded()
    read_as_number = number.read(sketch, model)
    with headline:
        title, caption = number.headline(read_as_number, model.label)
        st.subheader(title)
        st.caption(caption)
    if read_as_number is not None and read_as_number.digits:
        number.details(sketch, read_as_number, model, name, store)
    st.stop()

if mode == "photo":
    taken = photo.take()
    model = loaded()
    picture, read_as_photo, problem = photo.read(taken, model)
    with headline:
        title, caption = photo.headline(read_as_photo, problem, model.label)
        st.subheader(title)
        st.caption(caption)
    if read_as_photo is not None and read_as_photo.digits:
        photo.details(picture, read_as_photo, model, name, store)
    st.stop()

left, right = st.columns([1, 1.3], gap="large")
with left:
    sketch = sketchpad.show()
with right:
    compare = st.toggle("Compare every model on this drawing", key="compare")
    compared, explained = st.container(), st.container()  # each under its toggle
model = loaded()

asked = teach.progress(store) if teaching else None
read = None
if sketch.digit is not None:
    probs = model.predict_proba(sketch.digit[None])[0]
    read = models.read(probs, model.unsure_below)
with headline:
    if asked is not None:  # teaching: the digit asked for is the headline, the reading a line under it
        st.subheader(asked.headline)
        it_reads = f"It reads {read.digit}, probability {read.probability:.1%} · {model.label}. " if read else ""
        st.caption(f"{it_reads}{asked.caption}")
    elif read is None:
        st.subheader("Nothing drawn yet")
        st.caption("Draw a digit (0-9) on the black square: the model reads it after every stroke.")
    else:
        problem = numbers.drawing_problem(sketch.ink, model, sketch.strokes)
        title, caption = reading.words(read, problem, model.label)
        st.subheader(title)
        st.caption(caption)

if read is None:
    if teaching:
        teach.panel(store, name, model.label)
    st.stop()

if compare:
    with compared:
        reading.comparison(sketch.digit, labels)
with explained:
    explanation.show(model, sketch.digit, read)

with right:
    if store_error is not None:
        st.caption(f"Saving drawings is off: {store_error.for_visitors}")
    elif teaching and asked is not None and asked.target is not None:
        drawing = hashlib.sha1(sketch.digit.tobytes()).hexdigest()
        st.button(
            f"Keep as {asked.target}",
            key="keep_prompted",
            type="primary",
            on_click=teach.keep_prompted,
            args=(store, sketch.digit, sketch.image, name, sketch.brush, drawing, asked.target, sketchpad.clear),
        )
        if error := st.session_state.pop("save_error", None):
            st.error(f"Not saved: {error}")
    elif store is not None and not teaching:
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
            "Saved drawings are public: the gallery, its downloads and training use them. Saving keeps the drawing, "
            "the digit you pick, each model's reading, the brush width and the time: nothing about you. You may "
            "delete yours on the Drawings page, from any device, with the resume code it shows you."
        )
    st.markdown(reading_figure(probs, read.digit, sketch.digit), unsafe_allow_html=True)  # our markup, no input in it

if teaching:
    teach.panel(store, name, model.label)

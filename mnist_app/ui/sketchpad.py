"""The Draw page's canvas: Clear above it, the brush slider under it, and the drawing it holds as an MNIST digit.

Clear sits at the left of the row above the canvas, so that the canvas's own toolbar, which shows over the canvas's
top right corner, covers nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import streamlit as st

from mnist_app.preprocess import EmptyCanvasError, ink_map, normalise

SIDE = 280  # canvas pixels
BRUSH = 20  # the slider's first value
FIT_STEP, FIT_SMALLEST = 10, 240  # px: a canvas wider than its column is shrunk to fit columns this narrow
CAPTION = (
    "Draw with the mouse, a finger or a pen: the model reads the drawing after every stroke. Over the canvas's top "
    "right corner, its own toolbar undoes, redoes and resets; its pencil moves strokes instead of drawing (press it "
    "again to draw), and its arrow only sends the drawing again, as every stroke already does."
)


@dataclass(frozen=True)
class Sketch:
    """What the canvas holds: its RGBA image (None before it reports), the brush, the digit (None if blank), and its
    strokes as the canvas gives them (json_data's objects, in the order written; the Number mode parts digits by them).
    """

    image: np.ndarray | None
    brush: int
    digit: np.ndarray | None
    strokes: list | None = None
    ink: np.ndarray | None = None  # the image's ink map (preprocess.ink_map), made once for the digit and the checks


def show(width: int = SIDE, key: str = "canvas") -> Sketch:
    """The canvas (SIDE tall, `width` wide) with Clear, the brush slider and how to use it; the drawing it holds.
    Each mode's canvas has its own key, so that a drawing of one is never read by another."""
    from streamlit_drawable_canvas import st_canvas  # looked up on every run: tests put a fake in sys.modules

    if "clears" not in st.session_state:
        st.session_state.clears = 0
        st.session_state.shown_drawing = st.session_state.cleared_drawing = None
    st.button("Clear", on_click=clear, key="clear")
    brush = int(st.session_state.get("brush", BRUSH))  # its slider is drawn under the canvas, after it
    st.html(fitted(f"{key}_frame", width))  # style alone: it takes no room on the page
    with st.container(key=f"{key}_frame"):
        canvas = st_canvas(
            stroke_width=brush,
            stroke_color="#FFFFFF",
            background_color="#000000",
            width=width,
            height=SIDE,
            drawing_mode="freedraw",
            return_image_data=True,
            key=key,
            initial_drawing={"objects": [], "clears": st.session_state.clears},
        )
    st.slider("Brush width", min_value=6, max_value=40, value=BRUSH, key="brush")
    st.caption(CAPTION)
    st.session_state.shown_drawing = fingerprint(canvas.json_data)
    if st.session_state.shown_drawing == EMPTY:  # the clear has reached the canvas: no stale drawing can come now,
        st.session_state.cleared_drawing = None  # and the same strokes drawn again are a new drawing, read anew
    cleared = st.session_state.shown_drawing == st.session_state.cleared_drawing
    image = None if cleared else canvas.image_data
    strokes = None if cleared else (canvas.json_data or {}).get("objects")
    ink = None if image is None else ink_map(image)
    return Sketch(image, brush, _digit(ink), strokes, ink)


def fitted(frame: str, width: int) -> str:
    """CSS that shows a canvas wider than its column (the Number canvas on a phone) whole, shrunk to the column's
    width: the column's width (a container query) picks a zoom, in steps of FIT_STEP px. The canvas keeps its own
    pixels, so a drawing is read as on a desktop, and the browser maps the pointer through the zoom."""
    box, canvas = f".st-key-{frame}", f".st-key-{frame} > .stElementContainer"
    rules = [f"{box} {{ container-type: inline-size; }}"]
    for room in range(width - FIT_STEP, FIT_SMALLEST - 1, -FIT_STEP):  # widest first: the narrowest match wins
        rules.append(f"@container (max-width: {room + FIT_STEP - 1}px) {{ {canvas} {{ zoom: {room / width:.3f}; }} }}")
    return f"<style>{chr(10).join(rules)}</style>"


def clear() -> None:
    """Button callback: empty the canvas.

    A changed initial drawing makes the canvas reload it in place: empty, history reset, no remount (a remount would
    drop strokes drawn while the new canvas is built). Until the canvas reports back, the drawing just cleared may
    still arrive: it is remembered so that it is never read again.
    """
    st.session_state.clears += 1
    st.session_state.cleared_drawing = st.session_state.shown_drawing


def fingerprint(json_data: dict | None) -> str:
    """Identifies a drawing by its strokes."""
    objects = (json_data or {}).get("objects", [])
    return hashlib.sha1(json.dumps(objects, sort_keys=True).encode()).hexdigest()


EMPTY = fingerprint(None)


def _digit(ink: np.ndarray | None) -> np.ndarray | None:
    """The ink as the models see it (canvas_to_mnist, from its ink map); None when nothing is drawn."""
    try:
        return None if ink is None else normalise(ink)
    except EmptyCanvasError:
        return None

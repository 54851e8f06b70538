"""The Draw page's Number mode: a wide canvas read as a whole number (mnist_app.numbers.read_number) after every
stroke; the number in the headline, a box round each digit in the order read, each digit's own reading, Explain
for one of them, and Save, which keeps each digit as a labelled drawing.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
import pandas as pd
import streamlit as st

from mnist_app import models, numbers
from mnist_app.reports.plots import boxed, enlarge
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.schema import NUMBER_LENGTH
from mnist_app.ui import explanation, sketchpad
from mnist_app.ui.store import save_drawing

WIDTH = 700  # canvas pixels: room for six or more digits as tall as the single-digit canvas's
KEY = "number_canvas"


def headline(reading: numbers.NumberReading | None, label: str) -> tuple[str, str]:
    """(headline, caption): the number read, and what to say of it (unsure digits, marks, too many)."""
    if reading is None or not reading.digits:
        message = reading.message if reading is not None else "Write a number"
        return message, f"Write digits side by side on the wide canvas: it reads them after every stroke · {label}"
    unsure = [f"the {place} ({d.digit} or {d.reading.runner_up}?)" for place, d in _places(reading) if not d.sure]
    notes = [f"Not sure of {', '.join(unsure)}" if unsure else "Every digit sure"]
    if reading.marks:
        notes.append(f"{len(reading.marks)} mark{'s' * (len(reading.marks) > 1)} that is no digit, left out")
    if reading.truncated:
        notes.append(reading.message)
    return f"Number: {reading.text}", f"{'. '.join(notes)} · {label}"


def read(sketch: sketchpad.Sketch, model: models.Model) -> numbers.NumberReading | None:
    """The number on the canvas, parted along its strokes, or None before the canvas reports; strokes the reader
    cannot take (never from this canvas) leave the ink alone to read."""
    if sketch.image is None:
        return None
    try:
        return numbers.read_number(sketch.image, model, strokes=sketch.strokes)
    except numbers.StrokesError:
        return numbers.read_number(sketch.image, model)


def details(
    sketch: sketchpad.Sketch, reading: numbers.NumberReading, model: models.Model, name: str, store, show_drawing=True
) -> None:
    """Under the canvas: the drawing with its boxes (unless the caller shows it), each digit's reading, Explain for
    one, and Save."""
    if show_drawing:
        marks = list(reading.marks)
        st.image(boxed(sketch.image, [(d.box, d.sure) for d in reading.digits], marks), caption=BOXES_CAPTION)
    for column, (place, digit) in zip(st.columns(max(len(reading.digits), 1)), _places(reading), strict=False):
        column.image(enlarge(digit.image, 3), width="stretch")
        said = f"{digit.digit}" if digit.sure else f"{digit.digit} or {digit.reading.runner_up}?"
        with column.popover(said, help=f"The {place} digit's ten probabilities"):
            st.bar_chart(pd.DataFrame({"probability": digit.probabilities}, index=[str(d) for d in range(10)]))
    places = [place for place, _ in _places(reading)]
    chosen = st.selectbox("Explain the reading of", places, key="number_explained")
    digit = reading.digits[places.index(chosen)]
    explanation.show(model, digit.image, digit.reading)
    if store is not None:
        save(store, sketch, reading, name)


BOXES_CAPTION = "Green: a digit read surely; amber: unsure; grey: a mark that is no digit. Numbered as read."


def save(store: DrawingStore, sketch: sketchpad.Sketch, reading: numbers.NumberReading, name: str) -> None:
    """The number as the person wrote it, checked against what was read, then each digit saved under its label."""
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    typed = left.text_input("The number you wrote", key="number_typed", placeholder=reading.text).strip()
    if right.button("Save its digits", key="save_number"):
        if problem := typed_problem(typed, len(reading.digits)):
            st.error(problem)
            return
        key, number = hashlib.sha1(sketch.image.tobytes()).hexdigest(), secrets.token_hex(NUMBER_LENGTH // 2)
        for place, (digit, label) in enumerate(zip(reading.digits, typed, strict=True), 1):
            piece, its = crop(sketch.image, digit.box), (number, place)  # each digit knows its number and place
            if not save_drawing(
                store, digit.image, piece, name, sketch.brush, f"{key}-{place}", int(label), number=its
            ):
                st.error(f"Not saved: {st.session_state.pop('save_error', '')}")
                return
        st.success(f"Saved {len(typed)} digits, each under its label: thank you!")


def typed_problem(typed: str, read: int) -> str | None:
    """Why a typed number cannot label what was read (None when it can): digits only, one per digit read."""
    if not typed:
        return "Type the number you wrote first."
    if not typed.isdigit() or not typed.isascii():
        return "Type the number with the digits 0-9 only."
    if len(typed) != read:
        return f"You typed {len(typed)} digits and {read} were found: correct the drawing (or Clear) first."
    return None


def _places(reading: numbers.NumberReading) -> list[tuple[str, numbers.DigitReading]]:
    """Each digit with its place in words: '1st', '2nd', ..."""
    return [(_ordinal(k), d) for k, d in enumerate(reading.digits, 1)]


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The part of an (H, W, ...) image inside a box (x0, y0, x1, y1), x1 and y1 exclusive."""
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1]

"""Is the Digit canvas's drawing one digit? Its ink says whether it is a digit at all (reading/legibility.py); the
number reader says whether it is several; the marks network whether a drawing that passes both is a scribble or a
sign (reading/marks.py).
"""

from __future__ import annotations

import numpy as np

from mnist_app.numbers.reading import StrokesError
from mnist_app.numbers.search import read_pen
from mnist_app.numbers.stroked import one_stroke_explains
from mnist_app.numbers.strokes import from_canvas
from mnist_app.preprocess import ink_map
from mnist_app.reading import marks
from mnist_app.reading.legibility import FLAT, SEVERAL_DIGITS, Ink, measure_ink, measured_problem


def one_digit_problem(image: np.ndarray, model, strokes=None) -> str | None:
    """legibility.problem's answer, or SEVERAL_DIGITS: the drawing reads as two or more digits to `model` (a
    models.Model or its name), parted along the canvas's `strokes` when given (its json_data or "objects"; quicker
    than cutting the ink, and surer: read_number). A dash is never several digits, however it would be cut (into 1s).
    """
    ink = ink_map(image)
    return _one_digit_problem(ink, measure_ink(ink), model, strokes)


def drawing_problem(ink: np.ndarray, model, strokes=None) -> str | None:
    """What the Digit canvas says of its drawing, from its ink map (preprocess.ink_map's, measured once here):
    `one_digit_problem`'s answer, else the marks network's (reading/marks.py) for a scribble or a sign that the ink's
    measures and the number reader let through; None for one digit."""
    shape = measure_ink(ink)
    return _one_digit_problem(ink, shape, model, strokes) or marks.ink_mark_problem(ink, shape)


def _one_digit_problem(ink: np.ndarray, shape: Ink, model, strokes) -> str | None:
    if shape.rise >= FLAT and several_digits(ink, model, strokes):
        return SEVERAL_DIGITS
    return measured_problem(shape)


def several_digits(ink: np.ndarray, model, strokes=None) -> bool:
    """The number reader finds two or more digits in the ink map, every one of them sure, and no other mark. One
    stroke that explains the ink is one digit at most: the reader is not asked (most digits are written in one)."""
    try:
        pen = from_canvas(strokes)
    except StrokesError:  # strokes no canvas gives: the ink alone is cut
        pen = []
    if one_stroke_explains(ink, pen):
        return False
    reading = read_pen(ink, model, pen)
    return len(reading.digits) >= 2 and reading.sure and not reading.marks

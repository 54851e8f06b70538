"""Is the Digit canvas's drawing one digit? Its ink says whether it is a digit at all (reading/legibility.py); the
number reader says whether it is several.
"""

from __future__ import annotations

import numpy as np

from mnist_app.numbers.reading import StrokesError
from mnist_app.numbers.search import read_ink
from mnist_app.preprocess import ink_map
from mnist_app.reading.legibility import FLAT, SEVERAL_DIGITS, ink_problem, measure_ink


def one_digit_problem(image: np.ndarray, model, strokes=None) -> str | None:
    """legibility.problem's answer, or SEVERAL_DIGITS: the drawing reads as two or more digits to `model` (a
    models.Model or its name), parted along the canvas's `strokes` when given (its json_data or "objects"; quicker
    than cutting the ink, and surer: read_number). A dash is never several digits, however it would be cut (into 1s).
    """
    ink = ink_map(image)
    if measure_ink(ink).rise >= FLAT and several_digits(ink, model, strokes):
        return SEVERAL_DIGITS
    return ink_problem(ink)


def several_digits(ink: np.ndarray, model, strokes=None) -> bool:
    """The number reader finds two or more digits in the ink map, every one of them sure, and no other mark."""
    try:
        reading = read_ink(ink, model, strokes)
    except StrokesError:  # strokes no canvas gives: the ink alone is cut
        reading = read_ink(ink, model)
    return len(reading.digits) >= 2 and reading.sure and not reading.marks

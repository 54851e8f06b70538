"""Is the Digit canvas's drawing one digit? Its ink says whether it is a digit at all (reading/legibility.py); the
number reader says whether it is several.
"""

from __future__ import annotations

import numpy as np

from mnist_app.numbers.search import read_number
from mnist_app.preprocess import ink_map
from mnist_app.reading.legibility import FLAT, SEVERAL_DIGITS, ink_problem, measure_ink


def one_digit_problem(image: np.ndarray, model) -> str | None:
    """legibility.problem's answer, or SEVERAL_DIGITS: the drawing reads as two or more digits to `model` (a
    models.Model or its name). A dash is never several digits, however the number reader would cut it (into 1s)."""
    ink = ink_map(image)
    if measure_ink(ink).rise >= FLAT and several_digits(image, model):
        return SEVERAL_DIGITS
    return ink_problem(ink)


def several_digits(image: np.ndarray, model) -> bool:
    """The number reader finds two or more digits, every one of them sure, and no other mark."""
    grey = np.round(ink_map(image) * 255).astype(np.uint8)  # white on black: any image legibility.problem takes
    canvas = np.dstack([grey, grey, grey, np.full_like(grey, 255)])  # read as the canvas's drawing, never as a photo
    reading = read_number(canvas, model)
    return len(reading.digits) >= 2 and reading.sure and not reading.marks

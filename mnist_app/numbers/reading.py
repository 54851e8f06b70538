"""What reading a number gives back: the digits (each a lone digit's reading), their boxes, and what to say."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_app import models

MAX_DIGITS = 20  # read at most this many digits; more are read up to it and the reading says so

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) in the image's pixels, x1 and y1 exclusive


class NumberImageError(ValueError):
    """The image is not an array a canvas gives: wrong type, dtype or shape."""


class ImageTooLargeError(NumberImageError):
    """The image is larger than read_number reads (MAX_WIDTH x MAX_HEIGHT)."""


class StrokesError(ValueError):
    """The strokes are not what the canvas gives: not a list of path objects, malformed paths, or too many."""


@dataclass(frozen=True)
class DigitReading:
    """One digit of the number: its ten probabilities, read as the single-digit page reads one, its box, and the
    (28, 28) image the model read (what the page shows, explains and saves)."""

    probabilities: np.ndarray
    reading: models.Reading
    box: Box
    image: np.ndarray

    @property
    def digit(self) -> int:
        return self.reading.digit

    @property
    def sure(self) -> bool:
        return not self.reading.unsure


@dataclass(frozen=True)
class NumberReading:
    """The digits read left to right, the marks that read as no digit, and how many digits there were in all."""

    digits: tuple[DigitReading, ...] = ()
    marks: tuple[Box, ...] = ()  # ink that is no digit (a dash, a dot, a scribble): shown as such, never a digit
    found: int = 0  # digits found, before keeping the first MAX_DIGITS
    max_digits: int = MAX_DIGITS
    note: str = ""  # what to say instead of the usual message: a photo's "No digits found", or why none are read

    @property
    def text(self) -> str:
        return "".join(str(d.digit) for d in self.digits)

    @property
    def boxes(self) -> list[Box]:
        return [d.box for d in self.digits]

    @property
    def truncated(self) -> bool:
        return self.found > len(self.digits)

    @property
    def sure(self) -> bool:
        """Every digit is sure (an empty reading is not)."""
        return bool(self.digits) and all(d.sure for d in self.digits)

    @property
    def message(self) -> str:
        """What the page says besides the number: '' when there is nothing to add."""
        if self.note:
            return self.note
        if not self.digits:
            return "Write a number" if not self.marks else "No digits here: write a number"
        if self.truncated:
            return f"Read the first {len(self.digits)} of {self.found} digits: at most {self.max_digits} are read"
        return ""

"""Reading a whole written number: the ink cut into candidate pieces, each read as a lone digit, the best path chosen.

Owns `read_number` (the one function the Number mode calls), its result types and its typed input errors. Stages,
one module each: `pieces` (the ink -> candidate pieces, each preprocessed exactly as a lone digit), `search` (the
models read every candidate in one batch; a dynamic programme picks the cuts), `reading` (what comes back);
`lone` says when the Digit canvas holds several digits (`one_digit_problem`), or no digit (`drawing_problem`).
"""

from .lone import drawing_problem, one_digit_problem
from .pieces import MAX_HEIGHT, MAX_WIDTH
from .reading import MAX_DIGITS, DigitReading, ImageTooLargeError, NumberImageError, NumberReading, StrokesError
from .search import read_number

__all__ = [
    "MAX_DIGITS",
    "MAX_HEIGHT",
    "MAX_WIDTH",
    "DigitReading",
    "ImageTooLargeError",
    "NumberImageError",
    "NumberReading",
    "StrokesError",
    "drawing_problem",
    "one_digit_problem",
    "read_number",
]

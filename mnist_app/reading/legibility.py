"""Is a drawing a digit at all, and big enough to read? Judged from its ink alone, before any model reads it.

The models answer every drawing with a digit, often a confident one: a dot reads as a 0, a dash as a 1, an X as a
4 or an 8. A few measures of the ink's shape catch these, so the Draw page can say so instead of naming a digit.

What matters for size is not pixels but brush widths: the pen digits of writers 1-20 drawn 22 px tall with a 6 px
brush are read as well as at 170 px (98.8% against 98.8%, NumPy MLP), but a digit under about 3 brush widths tall is
a blob (52% read right at 1.9 brush widths, 93% at 2.8, 98% at 3.5). Every threshold below leaves room on both
sides: the pen digits of writers 1-20, drawn with every brush of the slider, and the MNIST digits, pass; the dots,
dashes, Xs and scribbles of tests/test_legibility.py do not. Scribbles and signs drawn like digits pass these
measures; the marks network (marks.py) judges those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mnist_app.preprocess import crop_to_ink, ink_map

NOT_A_DIGIT = "not a digit"
TOO_SMALL = "too small"
SEVERAL_DIGITS = "several digits"  # two or more digits side by side: a number (mnist_app.numbers reads those)

SOLID = 0.5  # ink at half strength or more: the stroke's own width, without its anti-aliased rim
# A click measures 1.5-1.8 stroke widths across with every brush. Until issue 35 DOT was 2.0, and a 3 drawn 21 px
# tall with an 8-12 px brush (1.8-2.0 across) was called no digit, never too small.
DOT = 1.8  # under this many stroke widths across, and about square (ROUND): a dot, or ink scribbled into one patch
ROUND = 0.85  # a click's box is square; a tiny digit's blob is most often taller than wide
SMALL = 3.0  # under 3 stroke widths across: too small to read well (pen digits: 1 in 1,000 below 3.05)
FILLED = 80.0  # strokes wider than twice the widest brush (40 px) are strokes scribbled over each other
FLAT = 0.35  # a stroke rising under 35% of its run is a dash; a vertical one is a 1 (pen digits: 0.45 at least)
WINDING = 4.0  # strokes over 4 times as long as the drawing is tall: a scribble (pen digits: 3.7 at most)
EDGE = 0.2  # the outer fifth of each side of the drawing's box: an X's four arms cross each one twice
SPECK = 1.6  # a separate piece under this many stroke widths across beside other ink is a dot: a ? or an i
CORNER = 0.35  # a +'s four corners (this share of each side) hold no ink; a closed 4's slant fills one


@dataclass(frozen=True)
class Ink:
    """The shape of a drawing's ink: its box (pixels), its strokes' width and length, and how often the ink crosses
    the outer band of each side of its box (top, bottom, left, right)."""

    height: int
    width: int
    stroke: float
    length: float
    crossings: tuple[int, int, int, int]
    specks: int = 0  # separate pieces, beside other ink, under SPECK stroke widths across
    plus: bool = False  # one arm crosses the middle of each side: a +

    @property
    def across(self) -> float:
        """The drawing's longer side, in stroke widths."""
        return max(self.height, self.width) / self.stroke

    @property
    def rise(self) -> float:
        """How far the stroke's centre line rises over its run (1 for a drawing taller than wide)."""
        if self.height >= self.width:
            return 1.0
        return max(self.height - self.stroke, 0.0) / max(self.width - self.stroke, 1.0)


def measure(image: np.ndarray) -> Ink:
    """The ink's shape, for any image `canvas_to_mnist` takes; EmptyCanvasError when nothing is drawn."""
    return measure_ink(ink_map(image))


def measure_ink(ink: np.ndarray) -> Ink:
    """The shape of an ink map (H, W) float in [0, 1] (preprocess.ink_map's); EmptyCanvasError when it is blank."""
    box = crop_to_ink(ink) >= SOLID
    area = int(box.sum())
    # a stroke w wide and L long has an area of w * L and an outline about 2 * L long
    stroke = 2 * area / max(_outline(box), 1)
    height, width, stroke = *box.shape, max(stroke, 1.0)
    return Ink(height, width, stroke, area / stroke, _crossings(box), _specks(box, stroke), _plus(box))


def problem(image: np.ndarray) -> str | None:
    """NOT_A_DIGIT (a dot, a dash, an X, a scribble), TOO_SMALL, or None for a drawing that may be a digit, by its
    ink's measures alone.

    (SEVERAL_DIGITS needs a model's reading: mnist_app.numbers.one_digit_problem says it. The Draw page asks
    numbers.drawing_problem: that, then marks.py's network for the scribbles and signs the ink's measures let through.)
    """
    return ink_problem(ink_map(image))


def ink_problem(ink: np.ndarray) -> str | None:
    """`problem` for an ink map (H, W) float in [0, 1]: a piece of a drawing, as the numbers' search judges it."""
    return measured_problem(measure_ink(ink))


def measured_problem(ink: Ink) -> str | None:
    """`problem` for an ink map's measures (measure_ink's), for a caller that has them already."""
    if (ink.across < DOT and min(ink.height, ink.width) >= ROUND * max(ink.height, ink.width)) or ink.stroke > FILLED:
        return NOT_A_DIGIT
    if ink.rise < FLAT or ink.crossings == (2, 2, 2, 2) or ink.length > WINDING * max(ink.height, ink.width):
        return NOT_A_DIGIT
    if ink.specks or ink.plus:
        return NOT_A_DIGIT
    if ink.across < SMALL:
        return TOO_SMALL
    return None


def _outline(box: np.ndarray) -> int:
    """Ink pixels with a blank pixel above, below, left or right of them."""
    padded = np.pad(box, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return int((box & ~inner).sum())


def _crossings(box: np.ndarray) -> tuple[int, int, int, int]:
    """How many separate runs of ink cross the outer EDGE of the top, bottom, left and right of the box."""
    rows, cols = max(1, int(EDGE * box.shape[0])), max(1, int(EDGE * box.shape[1]))
    bands = (box[:rows].any(0), box[-rows:].any(0), box[:, :cols].any(1), box[:, -cols:].any(1))
    return tuple(int(np.count_nonzero(np.diff(np.concatenate([[0], band.astype(np.int8)])) == 1)) for band in bands)


def _specks(box: np.ndarray, stroke: float) -> int:
    """Separate pieces under SPECK stroke widths across, a stroke width or more from other ink: a ? or an i's dot
    (a scanned digit's broken stroke leaves a speck too, but close to the rest)."""
    pieces, count = ndimage.label(box, structure=np.ones((3, 3)))
    if count < 2:
        return 0
    found = 0
    for index, (rows, cols) in enumerate(ndimage.find_objects(pieces), start=1):
        if max(rows.stop - rows.start, cols.stop - cols.start) < SPECK * stroke:
            others = ndimage.distance_transform_edt(~((pieces != 0) & (pieces != index)))
            found += bool(others[pieces == index].min() > stroke)
    return found


def _plus(box: np.ndarray) -> bool:
    """Ink at the centre, each side's outer EDGE band crossed once, and the four corners clear of ink: a +.

    (A 4 drawn closed crosses each band once too, but its slant fills a corner; an O has no ink at its centre.)
    """
    h, w = box.shape
    if min(h, w) < 5 or not box[int(0.4 * h) : int(0.6 * h) + 1, int(0.4 * w) : int(0.6 * w) + 1].any():
        return False
    top, left = int(CORNER * h), int(CORNER * w)
    corners = (box[:top, :left], box[:top, w - left :], box[h - top :, :left], box[h - top :, w - left :])
    return _crossings(box) == (1, 1, 1, 1) and all(corner.mean() < 0.02 for corner in corners)

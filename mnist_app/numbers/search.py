"""The models read every candidate piece in one batch; a dynamic programme over cuts between atoms picks the number.

The atoms are ink pieces left to right, or the canvas's strokes in the order written. A path cuts them into runs,
each a digit or a mark that is no digit. Its score is the sum of its digits' log top-probability, less a cost for
shapes a digit rarely has (wider than the line is tall, much shorter than it, blank columns inside) and for marks;
on a photo also for how little a candidate looks like a digit to the not-a-digit network (reading/marks.py).
Recognition-based segmentation: the cuts are chosen by how surely the model reads the pieces they make, so a 4's two
strokes join because the join reads as a 4, and touching digits part at the cut that reads best. The costs were tuned
on numbers composed from writers 1-20 (benchmarks/read_numbers.py --writers tuning).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from mnist_app import models
from mnist_app.preprocess import INK_THRESHOLD
from mnist_app.reading import legibility, marks

from . import photo
from .pieces import Pieces, candidates, checked_ink
from .reading import MAX_DIGITS, DigitReading, NumberReading
from .stroked import stroke_candidates
from .strokes import Stroke, from_canvas


@dataclass(frozen=True)
class Costs:
    """What the path pays, in nats (log-probability units), for what a digit rarely is."""

    wide: float = 4.0  # per line height of width beyond wide_from
    short: float = 8.0  # per line height of height under short_under
    gap: float = 10.0  # per line height of blank columns inside one digit
    not_digit: float = 4.0  # a digit whose ink legibility calls no digit (a dash, a dot)
    mark: float = 3.0  # a piece read as a mark, not a digit
    shaped_mark: float = 8.0  # a mark whose ink looks like a digit
    wide_from: float = 1.0  # line heights: pen digits are 0.62 wide at the median, 1.04 at the 95th percentile
    short_under: float = 0.45  # line heights
    digit: float = 0.0  # a reward per digit: against merging two into one
    cut: float = 0.5  # per stroke a cut crosses (paid half by the piece on each side): digits touch at one
    apart: float = 0.0  # per two strokes written one after the other in one digit, times the share not overlapping
    far: float = 0.0  # per line height of blank between two strokes written one after the other joined in one digit
    narrow: float = 0.0  # per line height of width under narrow_under, that of the digit read
    narrow_under: tuple[float, ...] = (0.0,) * 10  # line heights, per digit 0-9
    cut_ink: float = 0.0  # per line height of ink a cut crosses (paid half by each side): a bold stroke is no touch
    thick_cut: float = 0.0  # per line height beyond thick_from of the most ink one cut crosses (paid as cut_ink)
    thick_from: float = 1.0  # line heights
    doubt: float = 0.0  # times -log(1 - p), p the not-a-digit network's probability that the candidate is a mark


COSTS = Costs()
# With the canvas's strokes, "cut" is paid for two strokes written one after the other and put in different digits,
# times the share of the narrower that the other overlaps: a digit's strokes overlap, neighbouring digits' at most
# touch (stroked.py). A digit under 0.8 of the line's height pays much more: the strokes make no pieces of touching
# ink, only whole strokes, and a 4's or 5's stroke alone is shorter than a digit. Tuned on numbers of writers 1-20
# (800, 40 per writer; benchmarks/read_numbers.py's): exact 96.4% -> 97.8% (numpy-mlp), 96.8% -> 97.6% (ensemble).
STROKE_COSTS = Costs(short=16.0, short_under=0.8, digit=0.5, cut=4.0, apart=2.0, far=20.0)
# On a photo the number's ink is scaled so its tallest piece is the line (photos.ink.LINE), and one number's digits are
# written at one height: a digit under 0.8 of the line pays as with the strokes. A bold digit cut at a column leaves
# parts that read surely (an MNIST 5 as 45, its stub a 4 0.42 of the line tall). A cut pays for the ink it crosses,
# not for the strokes: thin pen digits written touching part cheaply, a bold digit's stroke (MNIST's is 0.1 of the
# line) does not. A digit narrower than about 0.8 of the narrowest of its kind read right on the tuning photos pays
# as a short one: a sliver cut off a thin stroke is no 5 (a 1 may be a line). Tuned on the photos of writers 1-20
# and 400 MNIST training digits (paper.py --writers tuning): see docs/results.md.
# The not-a-digit network (reading/marks.py) doubts a candidate that is half a digit or two touching more than a whole
# digit: 0.75 of its -log(1 - p) is paid (tuning photos, numpy-mlp + ensemble: numbers 213 -> 215, MNIST 766 -> 771,
# blank pages 592 -> 594; docs/results.md).
# A cut across more than a third of the line in ink parts a bold digit, not digits touching: the cuts of the numbers
# read right on the tuning photos cross at most 0.34, those that cut a bold MNIST digit in two 0.40-0.62. The most
# ink one cut crosses pays 32 nats per line height beyond 0.35 (taken back, the second tuning sample of 800 MNIST
# training digits loses 4 read right by numpy-mlp and 5 by the ensemble; the first tuning photos unchanged;
# docs/results.md).
PHOTO_COSTS = Costs(
    doubt=0.75,
    short=16.0,
    short_under=0.8,
    cut=0.0,
    cut_ink=2.0,
    thick_cut=32.0,
    thick_from=0.35,
    narrow=16.0,
    narrow_under=(0.35, 0.0, 0.35, 0.25, 0.2, 0.35, 0.15, 0.3, 0.25, 0.35),
)


def read_number(image: np.ndarray, model="ensemble", strokes=None, max_digits: int = MAX_DIGITS) -> NumberReading:
    """The number written on a canvas, image (H, W, 4) uint8 RGBA in any colour scheme, or on paper: a photo or
    scan, (H, W) grey or (H, W, 3) RGB uint8 up to photos.MAX_SIDE a side (boxes in the photo's pixels).

    `model` is a model's name or a loaded models.Model. `strokes`, the canvas's json_data (or its "objects"), parts
    the digits along the strokes in the order written (stroked.py); without them, or when they are not the image's
    own, the ink alone is cut. NumberImageError (a ValueError) for a bad image, StrokesError for malformed strokes.
    """
    if photo.is_photo(image):
        net = _loaded(model) if isinstance(model, str) else model
        return photo.read_photo(image, net, max_digits, functools.partial(reading_of, costs=PHOTO_COSTS))
    return read_ink(checked_ink(image), model, strokes, max_digits)


def read_ink(ink: np.ndarray, model, strokes=None, max_digits: int = MAX_DIGITS) -> NumberReading:
    """read_number of a canvas's ink map (preprocess.ink_map), for a caller that has it already."""
    return read_pen(ink, model, from_canvas(strokes), max_digits)


def read_pen(ink: np.ndarray, model, pen: list[Stroke], max_digits: int = MAX_DIGITS) -> NumberReading:
    """read_ink, for a caller that has parsed the canvas's strokes already (strokes.from_canvas; [] for ink alone)."""
    if not (ink > INK_THRESHOLD).any():
        return NumberReading(max_digits=max_digits)
    net = _loaded(model) if isinstance(model, str) else model
    pieces = (stroke_candidates(ink, pen) if pen else None) or candidates(ink)
    probs = net.predict_proba(pieces.images)
    return reading_of(pieces, probs, net.unsure_below, max_digits, STROKE_COSTS if pieces.in_writing_order else COSTS)


def reading_of(
    pieces: Pieces, probs: np.ndarray, unsure_below: float, max_digits: int = MAX_DIGITS, costs: Costs = COSTS
) -> NumberReading:
    """The best path's digits and marks, given every candidate's probabilities, left to right."""
    path = best_path(pieces, probs, costs)
    if pieces.in_writing_order:
        path.sort(key=lambda step: pieces.boxes[step[0]][0] + pieces.boxes[step[0]][2])
    digits = [
        DigitReading(probs[k], models.read(probs[k], unsure_below), pieces.boxes[k], pieces.images[k])
        for k, is_digit in path
        if is_digit
    ]
    not_digits = tuple(pieces.boxes[k] for k, is_digit in path if not is_digit)
    return NumberReading(tuple(digits[:max_digits]), not_digits, len(digits), max_digits)


def scores(pieces: Pieces, probs: np.ndarray, costs: Costs = COSTS) -> tuple[np.ndarray, np.ndarray]:
    """(as a digit, as a mark) score of every candidate."""
    width, height, gap, cut, apart, far, cut_ink, thickest = pieces.shape.T
    no_digit = np.array([p == legibility.NOT_A_DIGIT for p in pieces.problems])
    digit = np.log(np.clip(probs.max(axis=1), 1e-12, 1.0)) + costs.digit
    digit -= costs.wide * np.clip(width - costs.wide_from, 0, None)
    digit -= costs.short * np.clip(costs.short_under - height, 0, None)
    digit -= costs.narrow * np.clip(np.asarray(costs.narrow_under)[probs.argmax(axis=1)] - width, 0, None)
    split = (
        costs.cut / 2 * cut
        + costs.cut_ink / 2 * cut_ink
        + costs.thick_cut / 2 * np.clip(thickest - costs.thick_from, 0, None)
    )
    digit -= costs.gap * gap + costs.not_digit * no_digit + split + costs.apart * apart + costs.far * far
    if costs.doubt:
        digit += costs.doubt * np.log(np.clip(1.0 - marks.doubt(pieces.images), 1e-6, 1.0))
    mark = -np.where(no_digit, costs.mark, costs.shaped_mark) - split - costs.apart * apart - costs.far * far
    return digit, mark


def best_path(pieces: Pieces, probs: np.ndarray, costs: Costs = COSTS) -> list[tuple[int, bool]]:
    """Viterbi over cuts between atoms: the (candidate, is a digit) runs of the highest total score, left to right."""
    digit, mark = scores(pieces, probs, costs)
    n = pieces.n_atoms
    best = np.full(n + 1, -np.inf)
    best[0] = 0.0
    back: list[tuple[int, int, bool] | None] = [None] * (n + 1)
    for k, (i, j) in enumerate(pieces.spans):  # spans come sorted by their first atom, so best[i] is final here
        for score, is_digit in ((digit[k], True), (mark[k], False)):
            if best[i] + score > best[j]:
                best[j], back[j] = best[i] + score, (i, k, is_digit)
    path, j = [], n
    while j > 0:
        i, k, is_digit = back[j]
        path.append((k, is_digit))
        j = i
    return path[::-1]


@functools.lru_cache(maxsize=8)
def _loaded(name: str) -> models.Model:
    """A model loaded once per process: loading a Keras model takes seconds."""
    return models.load(name)

"""Candidate digits from the canvas's strokes: runs of strokes consecutive in writing order, each drawn alone.

A digit is written in one to three strokes, one after another, so the atoms are the strokes in the order written
and a candidate is a run of up to MAX_STROKES of them. Each candidate is drawn from its own strokes only: a
neighbour's ink that touches or crosses it is not in its image, so digits written touching or overlapping part
along their strokes, and a 4's, 5's or 7's separate strokes join when the join reads best. When the strokes do not
explain the image's ink (another drawing's, or moved off it), None: the ink alone is read.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.spatial.distance import cdist

from mnist_app.preprocess import INK_THRESHOLD, normalise
from mnist_app.reading.legibility import ink_problem

from .pieces import Pieces, blank_columns, runs
from .strokes import Stroke

MAX_STROKES = 3  # a pen digit is written in 1-3 strokes (writers 1-20: 4, 5 and 7 mostly in 2)
SUPERSAMPLE = 2  # drawn at twice the size, then shrunk: anti-aliased edges, as the browser's canvas draws
UNEXPLAINED = 0.05  # more of the image's ink than this share away from every stroke: the strokes are not its own
LATE_TIE = 0.25  # a stroke added late overlaps at least this share of the narrower of it and its digit's stroke
NEAR = 4  # px: ink within a cell of this side of a stroke's cell is its own


def stroke_candidates(ink: np.ndarray, strokes: list[Stroke]) -> Pieces | None:
    """Every run of up to MAX_STROKES strokes, consecutive in writing order, no wider than MAX_SPAN lines, drawn
    alone and preprocessed as a lone digit; None when the strokes do not explain the ink (read the image instead)."""
    boxes = [_box(s, ink.shape) for s in strokes]
    kept = [k for k, b in enumerate(boxes) if b[0] < b[2] and b[1] < b[3]]
    strokes, boxes = [strokes[k] for k in kept], [boxes[k] for k in kept]
    order = in_digit_order(strokes, boxes)
    strokes, boxes = [strokes[k] for k in order], [boxes[k] for k in order]
    inks = [drawn(s, b) for s, b in zip(strokes, boxes, strict=True)]  # each stroke drawn once
    if not strokes or not explains(ink, joined(inks, boxes, (0, 0, ink.shape[1], ink.shape[0]))):
        return None
    line = float(max(b[3] - b[1] for b in boxes))
    pairs = list(zip(range(len(strokes) - 1), range(1, len(strokes)), strict=True))
    ties = np.array([0.0, *(_tie(boxes[a], boxes[b]) for a, b in pairs), 0.0])
    apart = np.array([0.0, *(_apart(strokes[a], strokes[b]) / line for a, b in pairs), 0.0])  # ends: no neighbour
    spans, cand_boxes, images, problems, shape = [], [], [], [], []
    for i, j, (x0, y0, x1, y1) in runs(boxes, MAX_STROKES, line):
        piece = joined(inks[i:j], boxes[i:j], (x0, y0, x1, y1))
        spans.append((i, j))
        cand_boxes.append((x0, y0, x1, y1))
        images.append(normalise(piece))
        problems.append(ink_problem(piece))
        shape.append(
            (
                (x1 - x0) / line, (y1 - y0) / line, blank_columns(boxes[i:j]) / line,
                ties[i] + ties[j], np.sum(1 - ties[i + 1 : j]),  # strokes overlapping split, not overlapping joined
                np.sum(apart[i + 1 : j]), 0.0, 0.0,  # blank between strokes joined; no ink is cut
            )
        )  # fmt: skip
    return Pieces(spans, cand_boxes, np.stack(images), problems, np.array(shape), len(strokes), in_writing_order=True)


def one_stroke_explains(ink: np.ndarray, strokes: list[Stroke]) -> bool:
    """One stroke on the image, and it explains the ink: stroke_candidates would make it the one candidate, so the
    drawing reads as at most one digit, known without drawing candidates or asking the model."""
    if len(strokes) != 1:
        return False
    box = _box(strokes[0], ink.shape)
    if not (box[0] < box[2] and box[1] < box[3]):
        return False
    return explains(ink, joined([drawn(strokes[0], box)], [box], (0, 0, ink.shape[1], ink.shape[0])))


def in_digit_order(strokes: list[Stroke], boxes: list[tuple[int, int, int, int]]) -> list[int]:
    """The strokes' indices with each stroke added late moved back beside its digit's: a stroke apart from the one
    written before it that touches and overlaps (LATE_TIE) an earlier one (a 4's bar, a 5's cap, a 7's bar written after
    the next digit) follows that one."""
    order: list[int] = []
    for k in range(len(strokes)):
        if order and _tie(boxes[order[-1]], boxes[k]) == 0 and _apart(strokes[order[-1]], strokes[k]) > 0:
            earlier = [p for p, m in enumerate(order[:-1]) if _tie(boxes[m], boxes[k]) >= LATE_TIE]
            earlier = [p for p in earlier if _apart(strokes[order[p]], strokes[k]) == 0]
            if earlier:
                order.insert(earlier[-1] + 1, k)
                continue
        order.append(k)
    return order


def _box(stroke: Stroke, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The stroke's ink box (x0, y0, x1, y1), its brush included, within the image (empty when off it)."""
    low = np.floor(stroke.points.min(axis=0) - stroke.width / 2).astype(int)
    high = np.ceil(stroke.points.max(axis=0) + stroke.width / 2).astype(int)
    return (max(low[0], 0), max(low[1], 0), min(high[0], shape[1]), min(high[1], shape[0]))


def _tie(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The share of the narrower of two strokes' boxes that the other's columns cover: a digit's strokes written one
    after the other overlap (writers 1-20: 0.95 at the median, 0.57 at the 5th percentile), neighbouring digits'
    at most touch (0 at the median, 0.11 at the 95th percentile)."""
    shared = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    return shared / max(1, min(a[2] - a[0], b[2] - b[0]))


def _apart(a: Stroke, b: Stroke) -> float:
    """Pixels of blank between two strokes' ink: 0 when they touch, as 95% of a digit's strokes written one after
    the other do (writers 1-20) and 4% of neighbouring digits' last and first."""
    return max(0.0, float(cdist(a.points, b.points).min()) - (a.width + b.width) / 2)


def drawn(stroke: Stroke, box: tuple[int, int, int, int]) -> np.ndarray:
    """The stroke drawn with a round brush inside box (x0, y0, x1, y1): (y1 - y0, x1 - x0) float32 ink in [0, 1]."""
    x0, y0, x1, y1 = box
    s = SUPERSAMPLE
    canvas = Image.new("L", ((x1 - x0) * s, (y1 - y0) * s), 0)
    draw = ImageDraw.Draw(canvas)
    xy, radius = (stroke.points - (x0, y0)) * s, stroke.width * s / 2
    if len(xy) > 1:
        draw.line(xy.ravel().tolist(), fill=255, width=int(round(2 * radius)))
    for x, y in xy:  # round caps and joins, as the canvas's pencil draws them
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    shrunk = canvas.resize((x1 - x0, y1 - y0), Image.Resampling.BOX)
    return np.asarray(shrunk, dtype=np.float32) / 255.0


def joined(inks: list[np.ndarray], boxes: list[tuple[int, int, int, int]], box: tuple[int, int, int, int]):
    """Strokes drawn apart (inks in their boxes) put together in `box`: (y1 - y0, x1 - x0) float32 in [0, 1]."""
    x0, y0, x1, y1 = box
    out = np.zeros((y1 - y0, x1 - x0), np.float32)
    for ink, (a, b, c, d) in zip(inks, boxes, strict=True):
        region = out[b - y0 : d - y0, a - x0 : c - x0]
        np.maximum(region, ink, out=region)
    return out


def explains(ink: np.ndarray, strokes_ink: np.ndarray) -> bool:
    """Nearly all of the image's ink lies on the strokes (strokes_ink: the strokes drawn), and the strokes on ink;
    compared in cells NEAR px square, each beside its neighbours (the browser's anti-aliasing, rounding)."""
    everything, inked = _cells(strokes_ink > 0.5), _cells(ink > INK_THRESHOLD)
    unexplained = np.count_nonzero(inked & ~ndimage.maximum_filter(everything, 3))
    uninked = np.count_nonzero(everything & ~ndimage.maximum_filter(inked, 3))
    return unexplained <= UNEXPLAINED * inked.sum() and uninked <= UNEXPLAINED * everything.sum()


def _cells(mask: np.ndarray) -> np.ndarray:
    """Which NEAR x NEAR cells of a mask hold any of it."""
    h, w = -(-mask.shape[0] // NEAR) * NEAR, -(-mask.shape[1] // NEAR) * NEAR
    padded = np.pad(mask, ((0, h - mask.shape[0]), (0, w - mask.shape[1])))
    return padded.reshape(h // NEAR, NEAR, w // NEAR, NEAR).any(axis=(1, 3))

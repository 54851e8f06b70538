"""A photo or scan of digits on paper -> the ink of its one written number, as the numbers segmentation takes it.

Steps, each an OpenCV call (docs/experiments.md: why OpenCV, not scikit-image): to grey; shrunk to a working size; the
light evened out (`light`: the paper's background, estimated by closing away the ink on a smaller copy, divides the
photo); deskewed (the angle whose rows' ink profile is sharpest: the paper's rules, or the number's own line); the
paper's rules and squares removed (`rules`: opening along lines, kept where they run on far beyond any digit; each
rule opened across its own thickness, the page's edges across all lines'; ink crossing or along a rule kept); the
ink found (hysteresis: faint ink is kept where it joins dark ink); pieces that are no writing dropped (specks, the desk
and page edges at the border, blobs too big for a digit); ink over much of the photo refused as a picture; the
number's row kept (with a bar written apart over it: NEAR_ROW), less its pieces far fainter than its ink (bits of
rules left beside it: FAINT), its dots (DOT) and slivers (SLIVER), a page of many rows refused as text or a picture;
the ink scaled to a line LINE px tall and thin pen strokes thickened to MNIST's stroke width (measured, not guessed:
MNIST_STROKE).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .light import STRONG, WEAK, darkness, grey_of
from .rules import grown, without_rules

WORK = 1600  # px: the working image's longer side (larger photos are shrunk first; their digits stay >= 25 px)
LINE = 100  # px: the number's ink is scaled so its tallest piece is this tall before the stroke is thickened
# MNIST's stroke width over the digit's height, by stroke_width() on 3,000 training digits grown to 140 px (median):
# benchmarks/paper.py --mnist-stroke measures it again.
MNIST_STROKE = 0.10
MIN_LINE = 0.04  # a number's tallest piece is at least this share of the shorter side (smaller: slivers of rules)
SPECK = 0.012  # pieces smaller than this share of the image's shorter side are specks of paper or noise
BIG = 0.6  # pieces taller than this share of the shorter side (or wider than of the longer) are no digit
MAX_PIECES = 40  # more pieces than this on one photo: a page of text or a picture, not a number
# ink away from the photo's edge over this share of it: a picture, not paper (the tuning photos: at most 0.031, their
# numbers, rule remnants and all; a photo of a face 0.15)
MAX_COVER = 0.12
ROW_OVERLAP = 0.3  # pieces in one row overlap the row's band by this share of their height at least
NEAR_ROW = 0.2  # or lie over or under one of its pieces, as near as this share of its height
MAX_TURN = 8.0  # degrees: deskew looks this far either way
NEAR_DESK = 0.02  # pieces this near (share of the shorter side) to ink running off the photo: bits of the page's edge
FAINT = 0.5  # a piece on the number's row under this share of its darkest piece's darkness: a bit of a rule left
DOT = 3.0  # a piece on the number's row under this many of its stroke widths across: a dot beside it, no digit
SLIVER = 0.4  # a piece on it whose strokes are thinner than this share of its stroke width: a sliver of a rule


class NotAPhotoOfANumberError(ValueError):
    """The photo holds writing that is no number on one line: a page of text, a picture."""


@dataclass(frozen=True)
class PhotoInk:
    """The number's ink (H, W) float32 in [0, 1], LINE px tall, and how to map its pixels back to the photo's."""

    ink: np.ndarray
    to_photo: np.ndarray  # (2, 3) affine: ink pixel (x, y, 1) -> photo pixel (x, y)
    stroke: float  # the ink's stroke width as found, in ink pixels (before thickening)
    angle: float  # degrees the photo was turned to deskew it
    grow: int  # px each digit's strokes are thickened by (to MNIST_STROKE of LINE): after cutting, so no gap closes

    def box_in_photo(self, box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """An (x0, y0, x1, y1) box on the ink -> the box round it in the photo's pixels, within the photo."""
        x0, y0, x1, y1 = box
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], dtype=np.float64) @ self.to_photo.T
        low, high = np.floor(corners.min(axis=0)), np.ceil(corners.max(axis=0))
        return (
            int(max(low[0], 0)),
            int(max(low[1], 0)),
            int(min(high[0], shape[1])),
            int(min(high[1], shape[0])),
        )


def skew(weak: np.ndarray) -> float:
    """Degrees to turn the image so its ink's rows are level: the angle whose row profile varies most."""
    h, w = weak.shape
    f = 400 / max(h, w)
    small = cv2.resize(weak.astype(np.uint8) * 255, (max(int(w * f), 1), max(int(h * f), 1)), cv2.INTER_AREA)
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    best, best_score = 0.0, -1.0
    for angle in np.arange(-MAX_TURN, MAX_TURN + 0.01, 0.5):
        turned = cv2.warpAffine(small, cv2.getRotationMatrix2D(centre, angle, 1.0), small.shape[::-1])
        rows = turned.sum(axis=1, dtype=np.float64)
        score = float(np.square(np.diff(rows)).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return best


def thickened(ink: np.ndarray, grow: int) -> np.ndarray:
    """Ink with its strokes `grow` px wider (a grey dilation by a disc), on a border wide enough to hold them."""
    if grow < 1:
        return ink
    padded = cv2.copyMakeBorder(ink.astype(np.float32), grow, grow, grow, grow, cv2.BORDER_CONSTANT, value=0.0)
    return cv2.dilate(padded, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow + 1, grow + 1)))


def stroke_width(mask: np.ndarray) -> float:
    """A binary drawing's stroke width in pixels: twice its area over its boundary (a stroke has two sides)."""
    area, boundary = _area_and_boundary(mask)
    return 2.0 * area / max(boundary, 1)


def _area_and_boundary(mask: np.ndarray) -> tuple[int, int]:
    """A binary drawing's pixels, and those of them on its edge (gone under a 3x3 erosion)."""
    mask = mask.astype(np.uint8)
    inner = cv2.erode(mask, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return int(mask.sum()), int(mask.sum()) - int(inner.sum())


def photo_ink(photo: np.ndarray) -> PhotoInk | None:
    """The number's ink on a photo of paper, or None when there is no writing on it.

    NotAPhotoOfANumberError when the photo's ink is many rows or pieces, or covers much of it: a page of text, a
    picture.
    """
    grey = grey_of(photo)
    h, w = grey.shape
    scale = min(1.0, WORK / max(h, w))
    if scale < 1.0:
        grey = cv2.resize(grey, (max(int(w * scale), 1), max(int(h * scale), 1)), interpolation=cv2.INTER_AREA)
    dark = darkness(grey)
    angle = skew(dark > WEAK)
    wh, ww = dark.shape
    turn = cv2.getRotationMatrix2D((ww / 2, wh / 2), angle, 1.0)
    if angle:
        dark = cv2.warpAffine(dark, turn, (ww, wh), flags=cv2.INTER_LINEAR, borderValue=0.0)
    inside = np.ones(dark.shape, dtype=np.uint8)
    if angle:
        inside = cv2.warpAffine(inside, turn, (ww, wh), flags=cv2.INTER_NEAREST, borderValue=0)
    edge = ~cv2.erode(inside, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    dark = without_rules(dark, max(15, min(wh, ww) // 25), edge)
    ink = dark > WEAK
    kept = pieces(ink, dark, edge)
    if kept is None:
        return None
    labels, boxes = kept
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    line = float(boxes[:, 3].max())
    strength = float(np.percentile(dark[labels > 0], 90))
    own = grown(labels > 0)
    crop = np.where(own, np.clip(dark / max(strength, 1e-3), 0.0, 1.0), 0.0)[y0:y1, x0:x1].astype(np.float32)
    f = LINE / line
    size = (max(int(round(crop.shape[1] * f)), 1), max(int(round(crop.shape[0] * f)), 1))
    crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    stroke = stroke_width(crop > 0.5)
    pad = 2
    crop = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0)
    # ink pixel -> working (turned) pixel -> working pixel -> photo pixel
    to_turned = np.array([[1 / f, 0, x0 - pad / f], [0, 1 / f, y0 - pad / f], [0, 0, 1]])
    back = np.vstack([cv2.invertAffineTransform(turn), [0, 0, 1]]) if angle else np.eye(3)
    to_photo = (np.diag([1 / scale, 1 / scale, 1]) @ back @ to_turned)[:2]
    return PhotoInk(crop, to_photo, stroke, angle, max(int(round(MNIST_STROKE * LINE - stroke)), 0))


def pieces(ink: np.ndarray, dark: np.ndarray, edge: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels of the kept pieces, their (x, y, w, h) boxes): the one row of writing, or None when there is none."""
    h, w = ink.shape
    strong = dark > STRONG
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    x, y, bw, bh, area = (stats[:, k] for k in range(5))
    darkest = np.zeros(count, dtype=bool)
    darkest[np.unique(labels[strong & ink])] = True
    at_edge = np.zeros(count, dtype=bool)
    at_edge[np.unique(labels[edge & ink])] = True  # the desk, the page's edge: they run off the photo
    side = min(h, w)
    near = cv2.dilate(np.isin(labels, np.flatnonzero(at_edge[1:]) + 1).astype(np.uint8), _square(NEAR_DESK * side))
    at_edge[np.unique(labels[(near > 0) & ink])] = True  # slivers along the page's edge, parted from the desk
    cover = area[1:][~at_edge[1:]].sum() / ink.size
    if cover > MAX_COVER:
        raise NotAPhotoOfANumberError(f"ink covers {cover:.0%} of the photo: this looks like a picture, not paper")
    keep = darkest & (np.maximum(bw, bh) >= SPECK * side) & ~at_edge & (bh <= BIG * side) & (bw <= BIG * max(h, w))
    keep[0] = False
    ids = np.flatnonzero(keep)
    if ids.size == 0:
        return None
    if ids.size > MAX_PIECES:
        raise NotAPhotoOfANumberError(f"{ids.size} pieces of ink: this looks like a page of text or a picture")
    row = _row(ids, x, y, bw, bh, area)
    strength = np.array([_strength(dark, labels, stats, i) for i in row])
    faint = row[strength < FAINT * strength.max()]  # bits of rules beside the number: fainter than its ink
    row = row[strength >= FAINT * strength.max()]
    if bh[row].max() < MIN_LINE * side:  # slivers: what is left of rules or the page's edge, no digit
        return None
    others = [i for i in ids if i not in row and i not in faint and bh[i] >= 0.5 * bh[row].max()]
    if len(others) >= 3:
        raise NotAPhotoOfANumberError("writing on several rows: this looks like a page of text, not one number")
    # each piece's area and boundary; the row's stroke width from their sums (pieces never touch, so it is the whole
    # row's stroke_width, without a pass over the whole image)
    area, boundary = np.array(
        [_area_and_boundary(labels[y[i] : y[i] + bh[i], x[i] : x[i] + bw[i]] == i) for i in row]
    ).T
    stroke = 2.0 * area.sum() / max(boundary.sum(), 1)
    widths = 2.0 * area / np.maximum(boundary, 1)
    big = (np.maximum(bw[row], bh[row]) >= DOT * stroke) & (widths >= SLIVER * stroke)
    row = row[big] if big.any() else row  # dots beside the number (a speck on the paper, the pen's touch), slivers
    kept = np.where(np.isin(labels, row), labels, 0)
    return kept, np.column_stack([x[row], y[row], bw[row], bh[row]])


def _square(size: float) -> np.ndarray:
    """A square structuring element `size` px a side (odd, at least 3)."""
    return cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(size) | 1),) * 2)


def _strength(dark: np.ndarray, labels: np.ndarray, stats: np.ndarray, i: int) -> float:
    """How dark piece i's ink is: the 90th percentile of its darkness (its strokes' cores, not their blurred edges)."""
    x, y, w, h = stats[i, :4]
    return float(np.percentile(dark[y : y + h, x : x + w][labels[y : y + h, x : x + w] == i], 90))


def _row(ids: np.ndarray, x: np.ndarray, y: np.ndarray, bw: np.ndarray, bh: np.ndarray, area: np.ndarray) -> np.ndarray:
    """The pieces on the row of the largest piece: each overlaps the row's band by ROW_OVERLAP of its height, or lies
    over or under a piece of it, within NEAR_ROW of its height (a 2's or a 5's bar written apart, above the rest)."""
    seed = ids[np.argmax(area[ids])]
    top, bottom = y[seed], y[seed] + bh[seed]
    overlap = np.minimum(y[ids] + bh[ids], bottom) - np.maximum(y[ids], top)
    row = ids[overlap >= ROW_OVERLAP * np.minimum(bh[ids], bh[seed])]
    gap = np.maximum(y[row].min() - (y[ids] + bh[ids]), y[ids] - (y[row] + bh[row]).max())
    over = [(np.minimum(x[i] + bw[i], x[row] + bw[row]) - np.maximum(x[i], x[row])).max() > 0 for i in ids]
    return ids[np.isin(ids, row) | ((gap >= 0) & (gap <= NEAR_ROW * bh[seed]) & np.array(over))]

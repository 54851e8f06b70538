"""A photo or scan of digits on paper -> the ink of its one written number, as the numbers segmentation takes it.

Steps, each an OpenCV call (docs/experiments.md: why OpenCV, not scikit-image): to grey; shrunk to a working size; the
light evened out (the paper's background, estimated by closing away the ink on a smaller copy, divides the photo);
deskewed (the angle whose rows' ink profile is sharpest: the paper's rules, or the number's own line); the paper's
rules and squares removed (opening along lines, their small gaps bridged, kept where they run on far beyond any digit;
each rule opened across its own thickness, the page's edges across all lines'; strokes crossing a rule mended); the
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

WORK = 1600  # px: the working image's longer side (larger photos are shrunk first; their digits stay >= 25 px)
LINE = 100  # px: the number's ink is scaled so its tallest piece is this tall before the stroke is thickened
# MNIST's stroke width over the digit's height, by stroke_width() on 3,000 training digits grown to 140 px (median):
# benchmarks/paper.py --mnist-stroke measures it again.
MNIST_STROKE = 0.10
WEAK, STRONG = 0.12, 0.30  # darkness over the paper: faint ink (and rules) from WEAK, surely ink from STRONG
MIN_LINE = 0.04  # a number's tallest piece is at least this share of the shorter side (smaller: slivers of rules)
SPECK = 0.012  # pieces smaller than this share of the image's shorter side are specks of paper or noise
BIG = 0.6  # pieces taller than this share of the shorter side (or wider than of the longer) are no digit
RULE = 0.3  # a line running on over this share of the image is a rule of the paper, not a stroke
MAX_PIECES = 40  # more pieces than this on one photo: a page of text or a picture, not a number
# ink away from the photo's edge over this share of it: a picture, not paper (the tuning photos: at most 0.031, their
# numbers, rule remnants and all; a photo of a face 0.15)
MAX_COVER = 0.12
ROW_OVERLAP = 0.3  # pieces in one row overlap the row's band by this share of their height at least
NEAR_ROW = 0.2  # or lie over or under one of its pieces, as near as this share of its height
MAX_TURN = 8.0  # degrees: deskew looks this far either way
THIN = 0.02  # a rule is thinner than this share of the shorter side (drawn ones 0.002-0.008; a bold digit's stroke
# long enough to pass for a line, over 0.03)
EDGE_SLIM = 3.0  # a page's edge inside the photo runs on this many times as far as it is wide (a tall digit does not)
EDGE_ZONE = 0.12  # a line this near the photo's border (share of its side) may be the page's edge
LINE_GAP = 7  # px: a rule seen a little slanted breaks under the opening where it steps a row; gaps this long join
RULE_DARK = 95  # percentile: a rule's darkness, its core's (a stroke along it keeps what it has darker)
RULE_ACROSS = 1.5  # a rule is taken away by an opening across it this many times its thickness long
NEAR_DESK = 0.02  # pieces this near (share of the shorter side) to ink running off the photo: bits of the page's edge
FAINT = 0.5  # a piece on the number's row under this share of its darkest piece's darkness: a bit of a rule left
DOT = 3.0  # a piece on the number's row under this many of its stroke widths across: a dot beside it, no digit
SLIVER = 0.4  # a piece on it whose strokes are thinner than this share of its stroke width: a sliver of a rule
PAPER_CLOSE = 0.1  # the paper's light is found by a closing this wide (share of the longer side): wider than ink


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


def grey_of(photo: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (H, W) uint8: each pixel's brightest channel (HSV's value), not its luminance.

    The paper's rules and squares are printed in light colours (blue, grey, a red margin) and ink is dark: the
    brightest channel keeps a light blue or red rule nearly as light as the paper, so a stroke written along it is not
    taken away with it, while black ink and pencil stay as dark as in luminance (blue ink is lighter, still ink).
    """
    return photo if photo.ndim == 2 else np.max(photo, axis=2)


def darkness(grey: np.ndarray) -> np.ndarray:
    """How much darker than the paper under it each pixel is: (H, W) float32, 0 = paper, 1 = black.

    The paper's light is estimated on a quarter-size copy by a closing (a maximum then a minimum filter) as wide as
    PAPER_CLOSE of the photo's longer side, far wider than any stroke (MNIST's bold digits on a close-up included), so
    it takes the ink away whole while keeping the light's slow slopes and shadow edges (a closing keeps a monotone
    ramp); smoothed by a median, it divides the photo.
    """
    h, w = grey.shape
    small = cv2.resize(grey, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA)
    side = max(5, int(PAPER_CLOSE * max(h, w) / 4) | 1)
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    back = cv2.resize(cv2.medianBlur(closed, 5), (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return np.clip(1.0 - grey.astype(np.float32) / np.maximum(back, 1.0), 0.0, 1.0)


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


def without_rules(dark: np.ndarray, reach: int, edge: np.ndarray | None = None) -> np.ndarray:
    """The darkness with the paper's rules and squares taken out, and the ink over them kept.

    A rule is found by a grey opening along rows (then columns): what every `reach`-px run of a line keeps, its gaps
    up to LINE_GAP px bridged (a rule on a page seen askew steps from row to row, and the opening parts it there),
    joined into a line running on over RULE of the image. On each rule's pixels the darkness becomes an opening across
    it, as long as a little more than that rule is thick (`rule_spans`): the thin rule goes, while a stroke crossing
    it, or running along it thicker than it, keeps its own darkness (no gap where a digit crosses a rule); a thin
    stroke running along a rule keeps what it has darker than the rule. `edge`: the pixels at the photo's edge.
    """
    h, w = dark.shape
    edge = np.zeros(dark.shape, dtype=bool) if edge is None else edge
    for along, long_side, axis in (((reach, 1), w, 0), ((1, reach), h, 1)):
        lines = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along))
        bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (LINE_GAP, 3) if axis == 0 else (3, LINE_GAP))
        joined = cv2.morphologyEx((lines > WEAK / 2).astype(np.uint8), cv2.MORPH_CLOSE, bridge)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        long = np.flatnonzero(stats[:, cv2.CC_STAT_WIDTH + axis] >= RULE * long_side)
        long = long[long > 0]
        if not long.size:
            continue
        found = np.isin(labels, long)
        level = float(np.percentile(lines[found], 75))  # the lines' darkness, the desk's and page's edges' with them
        rules, spans = rule_spans(found, axis, edge, THIN * min(h, w))
        shared = int(np.ceil(RULE_ACROSS * thickness(found, across=axis))) | 1
        span_of = np.array([0, *spans])[rules]  # each rule's pixels: its opening length
        line_level = np.zeros(count, dtype=np.float32)
        on_rules = rules > 0
        line_level[long] = line_levels(lines[on_rules], labels[on_rules], long, level)
        level_of = cv2.dilate(line_level[labels], np.ones((3, 3), np.uint8))  # each rule's pixels: its line's level
        groups = [(span, span_of == span, level_of) for span in sorted(set(spans))]
        edges = (shared, page_edges(found & ~_grown(rules > 0), axis, long_side), level)
        for span, ours, below in [*groups, edges]:
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, span) if axis == 0 else (span, 1))
            across = cv2.morphologyEx(dark, cv2.MORPH_OPEN, kernel)
            dark = np.where(_grown(ours), np.maximum(np.minimum(dark, across), dark - below), dark)
    return dark


def line_levels(darkness: np.ndarray, line_of: np.ndarray, ids: np.ndarray, level: float) -> np.ndarray:
    """How dark each line `ids` is where its rules are (`darkness` on the rules' pixels, `line_of` each one's line):
    the RULE_DARK percentile, at most `level`. Ink along a rule keeps what it has darker than that rule, not than the
    darkest lines of the photo (the desk, a page's edge): a stroke lying along a faint rule stays."""
    order = np.argsort(line_of, kind="stable")
    grouped, lines = darkness[order], line_of[order]
    first, past = np.searchsorted(lines, ids, "left"), np.searchsorted(lines, ids, "right")
    own = [np.percentile(grouped[a:b], RULE_DARK) if b > a else level for a, b in zip(first, past, strict=True)]
    return np.minimum(np.array(own, dtype=np.float32), level)


def page_edges(lines: np.ndarray, axis: int, long_side: int) -> np.ndarray:
    """The lines that are no rule but the page's edges: the lines left once the rules are out (thick ones, with their
    fringe of rule ends), running on over RULE of the image and EDGE_SLIM times their width (a tall digit's body
    passes for a line, but not a slim one), or lying within EDGE_ZONE of its border (the page's edge beside the desk
    is slanted on a photo seen askew, and the steps of a slanted line part it). Taken away by the
    opening of every line's median thickness, desk bands included: a digit's bold stroke keeps what is thicker."""
    count, parts, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    start, size, side = stats[:, 1 - axis], stats[:, cv2.CC_STAT_WIDTH + 1 - axis], lines.shape[axis]
    near = (start + size <= EDGE_ZONE * side) | (start >= (1 - EDGE_ZONE) * side)
    length = stats[:, cv2.CC_STAT_WIDTH + axis]
    edges = np.flatnonzero(((length >= RULE * long_side) & (length >= EDGE_SLIM * size)) | near)
    return np.isin(parts, edges[edges > 0])


def _grown(mask: np.ndarray) -> np.ndarray:
    """A mask one pixel wider all round (a line's blurred edge with it)."""
    return cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def rule_spans(mask: np.ndarray, across: int, edge: np.ndarray, thin: float) -> tuple[np.ndarray, list[int]]:
    """The rules in a mask of long lines, labelled, and each one's opening length across it (label k + 1 at k).

    A rule is the lines' thin runs along `across` (0: down the columns), joined: no run thicker than `thin` (a bold
    digit's stroke on a close-up, long enough to pass for a line, or a digit's bold stroke lying along a rule), none
    that reaches the photo's `edge` (the desk beside the page, which runs along the edge and would join every rule it
    meets into one). Its opening is RULE_ACROSS times its thickness, the median length of its runs: a stroke along it
    thickens a few runs only.
    """
    rows, starts, ends = _runs(mask, across)
    shape, n = np.moveaxis(mask, across, -1).shape, mask.shape[across]
    out = np.pad(np.moveaxis(edge, across, -1).reshape(-1, n), [(0, 0), (1, 1)], constant_values=True)
    thin_runs = (ends - starts <= thin) & ~out[rows, starts] & ~out[rows, ends + 1]
    painted = np.zeros((out.shape[0], n + 1), dtype=np.int32)
    painted[rows[thin_runs], starts[thin_runs]] = 1  # runs on a line are apart: no start is another's end
    painted[rows[thin_runs], ends[thin_runs]] = -1
    kept = np.moveaxis(np.cumsum(painted, axis=1)[:, :n].reshape(shape) > 0, -1, across)
    count, rules = cv2.connectedComponents(kept.astype(np.uint8), connectivity=8)
    run_rule = np.moveaxis(rules, across, -1).reshape(-1, n)[rows[thin_runs], starts[thin_runs]]
    lengths = (ends - starts)[thin_runs]
    ordered = lengths[np.lexsort((lengths, run_rule))]  # by rule, then by length: each rule's median in the middle
    runs = np.bincount(run_rule, minlength=count)[1:]
    first = np.cumsum(runs) - runs
    median = (ordered[first + (runs - 1) // 2] + ordered[first + runs // 2]) / 2
    spans = [int(np.ceil(RULE_ACROSS * m)) | 1 for m in median]
    return rules, spans


def thickness(mask: np.ndarray, across: int) -> float:
    """The median length of the mask's runs along `across` (0: down the columns, 1: along the rows): how thick
    lines running the other way are (a digit's ink or the desk on them is a few long runs among many)."""
    _, starts, ends = _runs(mask, across)
    return float(np.median(ends - starts)) if starts.size else 1.0


def _runs(mask: np.ndarray, across: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mask's runs along `across`: each one's line (the mask's 1-D slices along `across`, in row-major order),
    start and end (past its last pixel). Row-major: the k-th start and the k-th end are one run's."""
    lines = np.moveaxis(mask, across, -1).reshape(-1, mask.shape[across])
    steps = np.diff(np.pad(lines.astype(np.int8), [(0, 0), (1, 1)]), axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    return rows, starts, ends


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
    own = _grown(labels > 0)
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

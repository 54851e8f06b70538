"""The ink of a written number -> candidate pieces, each one preprocessed exactly as a lone digit is.

Atoms are the smallest pieces: the connected pieces of ink, and the parts of a wide piece cut at its thin columns
(digits written touching). A candidate is a run of consecutive atoms (left to right): one atom, a digit cut from a
touching pair, or several, a digit written in separate strokes (a 4's two strokes, a 5's cap, a 7's bar). The search
lets the models choose among the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mnist_app.preprocess import INK_THRESHOLD, ink_map, normalise
from mnist_app.reading.legibility import ink_problem

from .reading import ImageTooLargeError, NumberImageError

MAX_WIDTH, MAX_HEIGHT = 4096, 2048  # larger images are refused: a canvas is far smaller
MAX_ATOMS = 4  # a digit is at most 4 atoms (a 4's two strokes, each cut once where it touches a neighbour)
SPLIT_WIDER = 0.6  # a piece wider than this share of the line's height may be digits touching: cut it
MIN_PART = 0.15  # no cut leaves a part narrower than this share of the line's height
CUT_SPACING = 0.25  # cuts of one piece lie at least this share of the line's height apart
MAX_SPAN = 1.6  # a candidate wider than this share of the line's height is no one digit


@dataclass(frozen=True)
class Pieces:
    """The candidates of one image: atom ranges [i, j), boxes, shapes (in line heights) and their 28x28 images."""

    spans: list[tuple[int, int]]
    boxes: list[tuple[int, int, int, int]]
    images: np.ndarray  # (n, 28, 28) float32 in [0, 1], as canvas_to_mnist gives a lone digit
    problems: list[str | None]  # legibility's judgement of each candidate's ink alone
    # (n, 8): width, height, blank inside (each over the line's height), strokes cut; with the canvas's strokes,
    # how far strokes joined do not overlap, and the blank between them (stroked.py); ink cut, and the most ink
    # one cut crosses (line heights)
    shape: np.ndarray
    n_atoms: int
    in_writing_order: bool = False  # atoms are strokes as written (stroked.py), not ink left to right


def checked_ink(image) -> np.ndarray:
    """The canvas's image -> (H, W) ink in [0, 1]; NumberImageError for what no canvas gives, too large included."""
    if not isinstance(image, np.ndarray):
        raise NumberImageError(f"the image must be a NumPy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise NumberImageError(f"the image must be uint8 (0-255), got {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)) or 0 in image.shape:
        raise NumberImageError(f"the image must be (H, W), (H, W, 3) or (H, W, 4), got shape {image.shape}")
    if image.shape[0] > MAX_HEIGHT or image.shape[1] > MAX_WIDTH:
        raise ImageTooLargeError(
            f"the image is {image.shape[1]}x{image.shape[0]} pixels; at most {MAX_WIDTH}x{MAX_HEIGHT} are read"
        )
    return ink_map(image)


def atoms(
    ink: np.ndarray,
) -> tuple[np.ndarray, list[tuple[int, int, int, int]], list[tuple[int, int, int, float]], float]:
    """(labels: atom id + 1 per pixel, 0 = blank; each atom's box; the cuts (left atom, right atom, strokes cut,
    ink cut in line heights); the line's height), the atoms numbered left to right."""
    pieces, count = ndimage.label(ink > INK_THRESHOLD, structure=np.ones((3, 3)))
    slices = ndimage.find_objects(pieces)
    line = float(max(s[0].stop - s[0].start for s in slices))
    parts, cut_runs = [], {}  # parts: (centre x, piece id, x0, x1); cut_runs: (piece, x) -> strokes crossing
    for index, (rows, cols) in enumerate(slices, start=1):
        own = pieces[rows, cols] == index
        ranges = _parts(own, line)
        for x0, x1 in ranges:
            parts.append(((2 * cols.start + x0 + x1) / 2, index, cols.start + x0, cols.start + x1))
        for _, x in ranges[:-1]:
            column = own[:, x].astype(np.int8)
            cut_runs[index, cols.start + x] = (
                int(np.count_nonzero(np.diff(column) == 1) + column[0]),
                float(column.sum()) / line,
            )
    labels, boxes, ids = np.zeros_like(pieces), [], {}
    for atom, (_, index, x0, x1) in enumerate(sorted(parts), start=1):
        own = pieces[:, x0:x1] == index
        labels[:, x0:x1][own] = atom
        ids[index, x0] = atom - 1
        rows, cols = np.flatnonzero(own.any(axis=1)), np.flatnonzero(own.any(axis=0))
        boxes.append((int(x0 + cols[0]), int(rows[0]), int(x0 + cols[-1]) + 1, int(rows[-1]) + 1))
    right_of = {(index, x1): ids[index, x0] for _, index, x0, x1 in parts}
    cuts = [(right_of[key], ids[key], *crossing) for key, crossing in cut_runs.items()]
    return labels, boxes, cuts, line


def _parts(own: np.ndarray, line: float) -> list[tuple[int, int]]:
    """Column ranges of one piece, cut at the thinnest columns when it is wide enough to be digits touching."""
    width = own.shape[1]
    if width <= SPLIT_WIDER * line:
        return [(0, width)]
    thickness = ndimage.uniform_filter1d(own.sum(axis=0).astype(float), size=max(3, int(0.05 * line)))
    low = int(MIN_PART * line)
    inner = np.arange(low, width - low)
    minima = [x for x in inner if thickness[x] <= thickness[x - 1] and thickness[x] <= thickness[x + 1]]
    cuts: list[int] = []
    for x in sorted(minima, key=lambda x: thickness[x]):
        if len(cuts) < int(width / (0.3 * line)) and all(abs(x - c) >= CUT_SPACING * line for c in cuts):
            cuts.append(x)
    edges = [0, *sorted(cuts), width]
    return list(zip(edges[:-1], edges[1:], strict=True))


def runs(boxes: list[tuple[int, int, int, int]], most: int, line: float, wholes: list[tuple[int, int]] = ()):
    """Each run i:j of up to `most` consecutive pieces no wider than MAX_SPAN lines (a lone piece always), and each
    run in `wholes` as wide, with the box round it: (i, j, (x0, y0, x1, y1))."""
    spans = [(i, j) for i in range(len(boxes)) for j in range(i + 1, min(i + most, len(boxes)) + 1)]
    for i, j in [*spans, *(span for span in wholes if span[1] - span[0] > most)]:
        x0, y0 = min(b[0] for b in boxes[i:j]), min(b[1] for b in boxes[i:j])
        x1, y1 = max(b[2] for b in boxes[i:j]), max(b[3] for b in boxes[i:j])
        if j == i + 1 or x1 - x0 <= MAX_SPAN * line:
            yield i, j, (x0, y0, x1, y1)


def whole_runs(n_atoms: int, cuts: list[tuple[int, int, int, float]], most: int) -> list[tuple[int, int]]:
    """The atom runs i:j of more than one atom that hold up to `most` pieces of ink, each whole (no piece has parts
    both inside and outside): a wide bold digit may be cut into more than MAX_ATOMS parts, or a 5's long cap may,
    and the digit is still one candidate."""
    piece = list(range(n_atoms))
    for left, right, *_ in sorted(cuts):
        piece[right] = piece[left]  # cuts run left to right within a piece: each part takes its left one's piece
    first, last = {}, {}
    for atom, owner in enumerate(piece):
        first.setdefault(owner, atom)
        last[owner] = atom
    crossed = np.zeros(n_atoms + 1, dtype=bool)  # boundary b (before atom b) lies inside a piece
    for owner, atom in first.items():
        crossed[atom + 1 : last[owner] + 1] = True
    clean = np.flatnonzero(~crossed)
    wholes = []
    for start, i in enumerate(clean):
        for j in clean[start + 1 :]:
            if len(set(piece[i:j])) > most:
                break
            if j - i > 1:
                wholes.append((int(i), int(j)))
    return wholes


def candidates(ink: np.ndarray, prepare=None) -> Pieces:
    """Every run of up to MAX_ATOMS consecutive atoms or whole pieces of ink, no wider than MAX_SPAN lines,
    preprocessed as a lone digit.

    `prepare` (ink -> ink), when given, changes each candidate's ink first: a photo's thin strokes are thickened
    there, after the cuts, so no gap between digits closes."""
    labels, boxes, cuts, line = atoms(ink)
    spans, cand_boxes, images, problems, shape = [], [], [], [], []
    for i, j, (x0, y0, x1, y1) in runs(boxes, MAX_ATOMS, line, whole_runs(len(boxes), cuts, MAX_ATOMS)):
        own = labels[y0:y1, x0:x1]
        piece = np.where((own > i) & (own <= j), ink[y0:y1, x0:x1], 0.0)
        piece = piece if prepare is None else prepare(piece)
        spans.append((i, j))
        cand_boxes.append((x0, y0, x1, y1))
        images.append(normalise(piece))
        problems.append(ink_problem(piece))
        crossed = [(runs, thick) for a, b, runs, thick in cuts if (i <= a < j) != (i <= b < j)]
        cut, cut_ink = np.sum(crossed, axis=0) if crossed else (0, 0.0)
        thickest = max((thick for _, thick in crossed), default=0.0)
        shape.append(
            ((x1 - x0) / line, (y1 - y0) / line, blank_columns(boxes[i:j]) / line, cut, 0, 0, cut_ink, thickest)
        )
    return Pieces(spans, cand_boxes, np.stack(images), problems, np.array(shape), len(boxes))


def blank_columns(boxes: list[tuple[int, int, int, int]]) -> int:
    """Blank columns between the atoms of a candidate: digits side by side have some, a digit's strokes rarely."""
    covered = np.zeros(max(b[2] for b in boxes) - min(b[0] for b in boxes), dtype=bool)
    start = min(b[0] for b in boxes)
    for b in boxes:
        covered[b[0] - start : b[2] - start] = True
    return int((~covered).sum())

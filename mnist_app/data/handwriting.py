"""Writing styles MNIST's writers rarely used, drawn onto MNIST's own digits.

MNIST's writers were American: their 1 is a bare stroke and their 7 has no crossbar. Many
people (most of Europe, Turkey, Latin America) write a 1 with a flag at the top, often with a
foot, cross their 7, and curl a 9's tail to the left. A model trained on MNIST alone reads such
a 1 as a 7 and such a 9 as a 3. These functions add the missing strokes to MNIST's 1s, 7s
and 9s, as wide as the digit's own stroke, so the models learn both styles from MNIST's
digits (no other data is used).

Images are float32 (28, 28) in [0, 1], white on black, as MNIST's. Each style is the geometry
of the strokes it adds (pure, testable); draw_strokes draws them and re-fits the digit.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from mnist_app.preprocess import FIELD, EmptyCanvasError, normalise

Segment = tuple[float, float, float, float]  # (row0, col0, row1, col1) in the image's pixel coordinates
Strokes = tuple[list[Segment], float]  # segments to draw, and their width in pixels

SUPERSAMPLE = 4  # strokes are drawn at 4x and averaged down: anti-aliased like the digit itself
PAD = 10  # room around the digit for a stroke that reaches past its edge
INK = 0.3  # a pixel at least this bright is part of a stroke
HOOK_SEGMENTS = 6  # straight pieces that make up a curved hook


def stroke_width(image: np.ndarray) -> float:
    """Typical stroke width in pixels: ink mass per row, over the rows that hold one stroke."""
    per_row = image.sum(axis=1)
    runs = [_runs(row > INK) for row in image]
    single = [mass for mass, n in zip(per_row, runs, strict=True) if n == 1]
    return float(np.clip(np.median(single) if single else 2.0, 1.0, 5.0))


def _runs(mask: np.ndarray) -> int:
    """Number of separate stretches of True in a 1-D mask."""
    return int(np.count_nonzero(np.diff(mask.astype(np.int8)) == 1) + mask[0])


def draw_strokes(image: np.ndarray, segments: list[Segment], width: float) -> np.ndarray:
    """`image` with straight round-capped strokes added, then re-fitted and re-centred as MNIST's digits were.

    Segments may reach outside the image: the digit is drawn on a larger field, then re-fitted.
    """
    size = (FIELD + 2 * PAD) * SUPERSAMPLE
    layer = Image.new("F", (size, size), 0.0)
    pen = ImageDraw.Draw(layer)
    w = width * SUPERSAMPLE
    for row0, col0, row1, col1 in segments:
        ends = [((c + PAD + 0.5) * SUPERSAMPLE, (r + PAD + 0.5) * SUPERSAMPLE) for r, c in ((row0, col0), (row1, col1))]
        pen.line(ends, fill=1.0, width=max(1, round(w)))
        for x, y in ends:
            pen.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=1.0)
    strokes = np.asarray(layer).reshape(FIELD + 2 * PAD, SUPERSAMPLE, FIELD + 2 * PAD, SUPERSAMPLE).mean(axis=(1, 3))
    canvas = np.pad(image, PAD)
    canvas = np.maximum(canvas, strokes * image.max())
    try:
        return normalise(canvas)
    except EmptyCanvasError:
        return image


def _extent(image: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((image > INK).any(axis=1))
    cols = np.flatnonzero((image > INK).any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def _centre_col(image: np.ndarray, row: int) -> float | None:
    """Mean column of the ink in one row, None if the row is empty."""
    cols = np.flatnonzero(image[row] > INK)
    return float(cols.mean()) if cols.size else None


def flag_strokes(image: np.ndarray, rng: np.random.Generator, foot_probability: float = 0.35) -> Strokes:
    """A 1's flag from its top down to the left, and sometimes a foot across its base."""
    top, bottom, _, _ = _extent(image)
    height = bottom - top + 1
    col = _centre_col(image, top)
    length = height * rng.uniform(0.25, 0.7)
    angle = np.deg2rad(rng.uniform(20, 70))  # below the horizontal
    segments = [(top, col, top + length * np.sin(angle), col - length * np.cos(angle))]
    if rng.uniform() < foot_probability:
        base = _centre_col(image, bottom)
        half = height * rng.uniform(0.12, 0.25)
        segments.append((bottom, base - half, bottom, base + half))
    return segments, stroke_width(image)


def crossbar_strokes(image: np.ndarray, rng: np.random.Generator) -> Strokes:
    """A short, nearly level bar across a 7's stem, about halfway down."""
    top, bottom, left, right = _extent(image)
    row = round(top + (bottom - top) * rng.uniform(0.45, 0.62))
    col = _centre_col(image, row)
    if col is None:
        return [], 0.0
    half = max(right - left + 1, 8) * rng.uniform(0.2, 0.35)
    tilt = half * np.tan(np.deg2rad(rng.uniform(-8, 8)))
    shift = half * rng.uniform(-0.3, 0.3)
    return [(row + tilt, col - half + shift, row - tilt, col + half + shift)], stroke_width(image[row - 3 : row + 4])


def hook_strokes(image: np.ndarray, rng: np.random.Generator) -> Strokes:
    """A 9's tail that curls: on down from its foot, sweeping left and back up along an elliptical arc."""
    top, bottom, left, right = _extent(image)
    col = _centre_col(image, bottom)
    size = max(right - left + 1, (bottom - top + 1) / 2)
    across, down = size * rng.uniform(0.2, 0.45), size * rng.uniform(0.15, 0.35)
    turn = np.linspace(0, rng.uniform(0.5, 0.95) * np.pi, HOOK_SEGMENTS + 1)  # a quarter to nearly half a turn
    rows = bottom - 1 + down * np.sin(turn)
    cols = col - across * (1 - np.cos(turn))
    segments = [(rows[i], cols[i], rows[i + 1], cols[i + 1]) for i in range(HOOK_SEGMENTS)]
    return segments, stroke_width(image[(top + bottom) // 2 :])


STYLES = {1: flag_strokes, 7: crossbar_strokes, 9: hook_strokes}


def restyle(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, probability: float) -> np.ndarray:
    """A copy of `images` (n, 28, 28) in which each 1, 7 and 9, with `probability`, gains its other style's strokes."""
    out = images.copy()
    chosen = rng.uniform(size=len(images)) < probability
    for i in np.flatnonzero(chosen):
        strokes = STYLES.get(int(labels[i]))
        if strokes is not None and (images[i] > INK).any():
            segments, width = strokes(images[i], rng)
            if segments:
                out[i] = draw_strokes(images[i], segments, width)
    return out

"""Real pen-written digits (UCI pendigits, UNIPEN format) replayed as canvas drawings.

Each digit is a list of strokes, each stroke an (n, 2) array of tablet (x, y) points with y
growing upwards. `render` draws them as the app's canvas would hand them over: an
(H, W, 4) uint8 RGBA image with a round brush, in one of three colour schemes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SCHEMES = ("white-on-black", "black-on-white", "alpha-only")
CANVAS = 280
SUPERSAMPLE = 2  # draw at twice the size, then shrink: anti-aliased edges, as a browser canvas has
TUNING_WRITERS = frozenset(range(1, 11))  # preprocessing may be tuned on these; results are reported on the rest


@dataclass(frozen=True)
class PenDigit:
    label: int
    writer: int
    strokes: tuple[np.ndarray, ...]


def default_path() -> Path:
    """$PENDIGITS, else ../shared/pendigits/pendigits-orig.tra beside the project."""
    root = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("PENDIGITS", root.parent / "shared" / "pendigits" / "pendigits-orig.tra"))


def parse(text: str) -> list[PenDigit]:
    """Parse UNIPEN text: .SEGMENT starts a digit, .COMMENT gives label and writer, PEN_DOWN/UP a stroke."""
    digits: list[PenDigit] = []
    label = writer = None
    strokes: list[np.ndarray] = []
    points: list[tuple[int, int]] | None = None
    for line in text.splitlines():
        word = line.split()
        if not word:
            continue
        if word[0] == ".SEGMENT":
            if label is not None and strokes:
                digits.append(PenDigit(label, writer, tuple(strokes)))
            label, writer, strokes = None, None, []
        elif word[0] == ".COMMENT" and len(word) >= 3:
            label, writer = int(word[1]), int(word[2])
        elif word[0] == ".PEN_DOWN":
            points = []
        elif word[0] == ".PEN_UP" and points is not None:
            if points:
                strokes.append(np.array(points, dtype=np.float64))
            points = None
        elif points is not None and len(word) == 2 and word[0].lstrip("-").isdigit():
            points.append((int(word[0]), int(word[1])))
    if label is not None and strokes:
        digits.append(PenDigit(label, writer, tuple(strokes)))
    return digits


def load(path: str | Path | None = None) -> list[PenDigit]:
    path = Path(path or default_path())
    if not path.exists():
        raise FileNotFoundError(f"{path}: pendigits not found; set PENDIGITS to pendigits-orig.tra")
    return parse(path.read_text())


def canvas_strokes(
    digit: PenDigit, size: float = 0.7, centre: tuple[float, float] = (0.5, 0.5), canvas: int = CANVAS
) -> list[np.ndarray]:
    """The strokes in canvas pixels (x, y): `size` of the canvas tall (or wide), middle at `centre`."""
    points = np.concatenate(digit.strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale, mid = size * canvas / max(high - low).clip(min=1.0), (low + high) / 2
    # tablet y grows upwards; image rows grow downwards
    return [
        np.column_stack([(x - mid[0]) * scale + centre[0] * canvas, (mid[1] - y) * scale + centre[1] * canvas])
        for x, y in (stroke.T for stroke in digit.strokes)
    ]


def render(
    digit: PenDigit,
    brush: float = 18.0,
    size: float = 0.7,
    centre: tuple[float, float] = (0.5, 0.5),
    scheme: str = "white-on-black",
    canvas: int = CANVAS,
) -> np.ndarray:
    """Draw a digit's strokes on a canvas: (canvas, canvas, 4) uint8 RGBA.

    `brush` is the stroke width in canvas pixels, `size` the digit's height (or width, if
    wider) as a fraction of the canvas, `centre` where its middle lands (fractions).
    """
    s = SUPERSAMPLE
    ink = Image.new("L", (canvas * s, canvas * s), 0)
    draw = ImageDraw.Draw(ink)
    radius = brush * s / 2
    for stroke in canvas_strokes(digit, size, centre, canvas):
        xy = stroke * s
        if len(xy) > 1:
            draw.line([tuple(p) for p in xy], fill=255, width=int(round(brush * s)), joint="curve")
        for x, y in xy:  # round caps and joins, as a canvas brush draws them
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    alpha = np.asarray(ink.resize((canvas, canvas), Image.Resampling.BOX))
    return colour(alpha, scheme)


def colour(ink: np.ndarray, scheme: str) -> np.ndarray:
    """Ink strength (H, W) uint8 -> RGBA in the given colour scheme."""
    rgba = np.empty((*ink.shape, 4), dtype=np.uint8)
    if scheme == "white-on-black":
        rgba[..., :3], rgba[..., 3] = ink[..., None], 255
    elif scheme == "black-on-white":
        rgba[..., :3], rgba[..., 3] = 255 - ink[..., None], 255
    elif scheme == "alpha-only":
        rgba[..., :3], rgba[..., 3] = 0, ink  # black ink on a transparent canvas: only alpha tells
    else:
        raise ValueError(f"unknown colour scheme {scheme!r}; expected one of {SCHEMES}")
    return rgba


def random_drawing(digit: PenDigit, rng: np.random.Generator, canvas: int = CANVAS) -> tuple[np.ndarray, dict]:
    """Render with a random brush (10-30 px), size (a third to 85% of the canvas), position and scheme."""
    size = rng.uniform(1 / 3, 0.85)
    brush = rng.uniform(10, 30)
    margin = size / 2 + brush / canvas / 2
    centre = (rng.uniform(margin, 1 - margin), rng.uniform(margin, 1 - margin))
    scheme = SCHEMES[rng.integers(len(SCHEMES))]
    settings = {"brush": round(brush, 1), "size": round(size, 3), "centre": centre, "scheme": scheme}
    return render(digit, brush, size, centre, scheme, canvas), settings


def select_writers(digits: list[PenDigit], which: str) -> list[PenDigit]:
    """'heldout' (writers never used for tuning), 'tuning' or 'all'."""
    if which == "all":
        return digits
    if which not in ("heldout", "tuning"):
        raise ValueError(f"writers must be 'heldout', 'tuning' or 'all', got {which!r}")
    return [d for d in digits if (d.writer in TUNING_WRITERS) == (which == "tuning")]


def as_canvas_drawings(digits: list[PenDigit], seed: int) -> tuple[list[np.ndarray], np.ndarray, list[dict]]:
    """Every digit as a random canvas drawing (seeded per digit): (RGBA images, labels, settings)."""
    images, settings = [], []
    for index, digit in enumerate(digits):
        image, setting = random_drawing(digit, np.random.default_rng((seed, index)))
        images.append(image)
        settings.append(setting)
    return images, np.array([d.label for d in digits]), settings

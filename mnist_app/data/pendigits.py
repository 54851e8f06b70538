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
# At 2x strokes come out 0.3-0.5 px wider than Chromium's canvas draws the same mouse path, with harder edges; at 4x
# they match within 0.1 px and 0.3% of the ink (benchmarks/canvas_drawings.py). The reading models were trained on
# 2x drawings and keep them; what must look as the page's drawings do (the marks network, its checks) asks for this.
CANVAS_SUPERSAMPLE = 4
TUNING_WRITERS = frozenset(range(1, 21))  # trained and tuned on (../shared/pendigits/README.md)
HELD_OUT_WRITERS = frozenset(range(21, 31))  # never trained on, never used to choose: every reported number


@dataclass(frozen=True)
class PenDigit:
    label: int
    writer: int
    strokes: tuple[np.ndarray, ...]


def default_path() -> Path:
    """$PENDIGITS, else ../shared/pendigits/pendigits-orig.tra beside the project."""
    root = Path(__file__).resolve().parents[2]
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
    supersample: int = SUPERSAMPLE,
) -> np.ndarray:
    """Draw a digit's strokes on a canvas: (canvas, canvas, 4) uint8 RGBA.

    `brush` is the stroke width in canvas pixels, `size` the digit's height (or width, if
    wider) as a fraction of the canvas, `centre` where its middle lands (fractions).
    """
    return render_strokes(canvas_strokes(digit, size, centre, canvas), brush, scheme, canvas, supersample)


def render_strokes(
    strokes: list[np.ndarray], brush: float, scheme: str, canvas: int = CANVAS, supersample: int = SUPERSAMPLE
) -> np.ndarray:
    """Draw strokes given in canvas pixels (x, y) with a round brush: (canvas, canvas, 4) uint8 RGBA, drawn
    `supersample` times larger and shrunk (CANVAS_SUPERSAMPLE: as Chromium's canvas draws them)."""
    s = supersample
    ink = Image.new("L", (canvas * s, canvas * s), 0)
    draw = ImageDraw.Draw(ink)
    radius = brush * s / 2
    for stroke in strokes:
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


def random_drawing(
    digit: PenDigit, rng: np.random.Generator, canvas: int = CANVAS, supersample: int = SUPERSAMPLE
) -> tuple[np.ndarray, dict]:
    """Render with a random brush (10-30 px), size (a third to 85% of the canvas), position and scheme."""
    size = rng.uniform(1 / 3, 0.85)
    brush = rng.uniform(10, 30)
    margin = size / 2 + brush / canvas / 2
    centre = (rng.uniform(margin, 1 - margin), rng.uniform(margin, 1 - margin))
    scheme = SCHEMES[rng.integers(len(SCHEMES))]
    settings = {"brush": round(brush, 1), "size": round(size, 3), "centre": centre, "scheme": scheme}
    return render(digit, brush, size, centre, scheme, canvas, supersample), settings


def select_writers(digits: list[PenDigit], which: str) -> list[PenDigit]:
    """'heldout' (writers 21-30), 'tuning' (writers 1-20, which may be trained on) or 'all'."""
    if which == "all":
        return digits
    if which not in ("heldout", "tuning"):
        raise ValueError(f"writers must be 'heldout', 'tuning' or 'all', got {which!r}")
    return [d for d in digits if (d.writer in TUNING_WRITERS) == (which == "tuning")]


def as_canvas_drawings(
    digits: list[PenDigit], seed: int, supersample: int = SUPERSAMPLE
) -> tuple[list[np.ndarray], np.ndarray, list[dict]]:
    """Every digit as a random canvas drawing (seeded per digit): (RGBA images, labels, settings)."""
    images, settings = [], []
    for index, digit in enumerate(digits):
        image, setting = random_drawing(digit, np.random.default_rng((seed, index)), supersample=supersample)
        images.append(image)
        settings.append(setting)
    return images, np.array([d.label for d in digits]), settings


# --- Drawings the way people draw on the app's canvas (issue 12): every variation is a pure, seeded function ---

BRUSH_RANGE = (6.0, 40.0)  # the Draw page's brush slider (ui/draw.py)
SHEAR_RANGE = 0.4  # slant: x moves by up to 0.4 of the height, either way
ASPECT_RANGE = (0.75, 1.3)  # width stretched or squeezed
WOBBLE_RANGE = (0.0, 3.0)  # pixels a mouse's hand tremor moves each point, at most
SPACING_RANGE = (2.0, 16.0)  # canvas pixels between successive pointer events: slow and fast strokes
MIN_BRUSH_WIDTHS = 3.5  # nobody draws a digit fewer brush widths tall than this: it would be a blob


def reshaped(digit: PenDigit, shear: float = 0.0, aspect: float = 1.0) -> PenDigit:
    """The digit slanted (x += shear * height above the middle) and its width scaled by `aspect`."""
    points = np.concatenate(digit.strokes)
    mid = (points.min(axis=0) + points.max(axis=0)) / 2
    strokes = tuple(
        np.column_stack([(s[:, 0] - mid[0] + shear * (s[:, 1] - mid[1])) * aspect, s[:, 1] - mid[1]])
        for s in digit.strokes
    )
    return PenDigit(digit.label, digit.writer, strokes)


def reordered(digit: PenDigit, rng: np.random.Generator) -> PenDigit:
    """The same strokes drawn in another order, each possibly drawn backwards."""
    order = rng.permutation(len(digit.strokes))
    strokes = tuple(digit.strokes[i][::-1] if rng.random() < 0.5 else digit.strokes[i] for i in order)
    return PenDigit(digit.label, digit.writer, strokes)


def respaced(stroke: np.ndarray, rng: np.random.Generator, spacing: tuple[float, float]) -> np.ndarray:
    """Points along the stroke's path at uneven steps (low..high pixels), as pointer events arrive.

    Keeps both ends; a single point stays a single point (a dot).
    """
    steps = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    length = steps.sum()
    if len(stroke) < 2 or length == 0:
        return stroke
    gaps = rng.uniform(*spacing, size=int(length / spacing[0]) + 2)
    along = np.concatenate([[0.0], np.cumsum(gaps)])
    along = np.concatenate([along[along < length], [length]])
    travelled = np.concatenate([[0.0], np.cumsum(steps)])
    return np.column_stack([np.interp(along, travelled, stroke[:, k]) for k in (0, 1)])


def wobbled(stroke: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Each point moved by a smooth tremor of at most `amount` pixels in x and in y."""
    if amount == 0 or len(stroke) == 0:
        return stroke
    noise = rng.standard_normal((len(stroke) + 4, 2))
    smooth = np.stack([np.convolve(noise[:, k], np.ones(5) / 5, mode="valid") for k in (0, 1)], axis=1)
    return stroke + amount * np.clip(smooth / 0.9, -1.0, 1.0)  # 0.9: about two standard deviations of a 5-mean


def varied_settings(rng: np.random.Generator, canvas: int = CANVAS) -> dict:
    """Random drawing settings across everything the canvas allows: brush, shape, size, place, scheme, hand."""
    brush = rng.uniform(*BRUSH_RANGE)
    size = rng.uniform(max(1 / 3, MIN_BRUSH_WIDTHS * brush / canvas), 0.85)
    margin = size / 2 + brush / canvas / 2
    return {
        "brush": brush,
        "size": size,
        "centre": (rng.uniform(margin, 1 - margin), rng.uniform(margin, 1 - margin)),
        "scheme": SCHEMES[rng.integers(len(SCHEMES))],
        "shear": rng.uniform(-SHEAR_RANGE, SHEAR_RANGE),
        "aspect": float(np.exp(rng.uniform(*np.log(ASPECT_RANGE)))),
        "wobble": rng.uniform(*WOBBLE_RANGE),
        "spacing": (SPACING_RANGE[0], rng.uniform(*SPACING_RANGE)),
    }


def varied_drawing(
    digit: PenDigit, rng: np.random.Generator, canvas: int = CANVAS, supersample: int = SUPERSAMPLE
) -> tuple[np.ndarray, dict]:
    """The digit drawn as a person might on the canvas, with `varied_settings`: (RGBA image, settings)."""
    settings = varied_settings(rng, canvas)
    shaped = reordered(reshaped(digit, settings["shear"], settings["aspect"]), rng)
    strokes = [
        wobbled(respaced(stroke, rng, settings["spacing"]), rng, settings["wobble"])
        for stroke in canvas_strokes(shaped, settings["size"], settings["centre"], canvas)
    ]
    return render_strokes(strokes, settings["brush"], settings["scheme"], canvas, supersample), settings


def check_trainable(writers) -> frozenset[int]:
    """The writers, if every one may be trained on; ValueError naming any held-out writer."""
    writers = frozenset(int(w) for w in writers)
    if writers & HELD_OUT_WRITERS:
        raise ValueError(f"writers {sorted(writers & HELD_OUT_WRITERS)} are held out: never train on them")
    if not writers <= TUNING_WRITERS:
        raise ValueError(f"writers {sorted(writers - TUNING_WRITERS)} do not exist (trainable: 1-20)")
    return writers


def as_varied_drawings(
    digits: list[PenDigit], seed: int, supersample: int = SUPERSAMPLE
) -> tuple[list[np.ndarray], np.ndarray, list[dict]]:
    """Every digit as a `varied_drawing` (seeded per digit): (RGBA images, labels, settings). For measuring."""
    drawn = [
        varied_drawing(digit, np.random.default_rng((seed, index)), supersample=supersample)
        for index, digit in enumerate(digits)
    ]
    return [image for image, _ in drawn], np.array([d.label for d in digits]), [s for _, s in drawn]


def placed(digit: PenDigit, height: float, left: float, middle: float) -> list[np.ndarray]:
    """The digit's strokes in pixels (of a canvas, or of a sheet of paper), `height` tall (width at most 1.2
    heights), its left edge at `left`, centred on `middle`: how a number's digits are laid side by side."""
    points = np.concatenate(digit.strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = min(height / max(high[1] - low[1], 1.0), 1.2 * height / max(high[0] - low[0], 1.0))
    top = middle - (high[1] - low[1]) * scale / 2
    return [
        np.column_stack([(s[:, 0] - low[0]) * scale + left, (high[1] - s[:, 1]) * scale + top]) for s in digit.strokes
    ]

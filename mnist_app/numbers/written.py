"""Numbers written with pen writers' own digits, drawn as the wide canvas gives them, and marks that are no digit
(scribbles, signs): for measuring and tests.

One writer's digits at one height (each jittered), on a baseline that wanders, with gaps from wide to touching (a
share touching or overlapping), one brush and one colour scheme per number, on a canvas HEIGHT tall and as wide as
the number needs. benchmarks/read_numbers.py and benchmarks/not_one_digit.py compose their cases here.
"""

from __future__ import annotations

import numpy as np

from mnist_app.data import pendigits
from mnist_app.preprocess import canvas_to_mnist

from .strokes import as_canvas_objects

HEIGHT = 280  # the canvas's height, as the single-digit canvas
TOUCHING = 0.1  # share of gaps that touch or overlap
BRUSHES = (8.0, 30.0)  # px, one per number
SIZES = (0.45, 0.7)  # the number's height, as a share of the canvas's


def gap(height: float, rng: np.random.Generator, touching: float = TOUCHING) -> float:
    """Blank between neighbours' ink, in pixels: a share `touching` overlap by up to 12% of the height."""
    return height * (rng.uniform(-0.12, 0.0) if rng.random() < touching else rng.uniform(0.04, 0.45))


def compose(
    digits: list[pendigits.PenDigit], rng: np.random.Generator, touching: float = TOUCHING, sizes=SIZES
) -> dict:
    """One number: its canvas (RGBA uint8), each digit's strokes and height, the brush and scheme it was drawn with,
    and the strokes as the canvas gives them ("objects": its json_data's path objects, in the order written)."""
    height, brush = rng.uniform(*sizes) * HEIGHT, rng.uniform(*BRUSHES)
    scheme = pendigits.SCHEMES[rng.integers(len(pendigits.SCHEMES))]
    middle, left, strokes, heights = HEIGHT / 2 + rng.uniform(-15, 15), brush + rng.uniform(5, 40), [], []
    for index, digit in enumerate(digits):
        own = height * rng.uniform(0.9, 1.1)
        middle = float(np.clip(middle + rng.normal(0, 0.05 * height), own / 2 + brush, HEIGHT - own / 2 - brush))
        left += brush + gap(height, rng, touching) if index else 0.0
        drawn = pendigits.placed(digit, own, left, middle)
        left = max(s[:, 0].max() for s in drawn)
        strokes.append(drawn)
        heights.append(own)
    width = int(left + brush + rng.uniform(5, 40))
    flat = [s for d in strokes for s in d]
    image = pendigits.render_strokes(flat, brush, scheme, max(width, HEIGHT))[:HEIGHT, :width]
    objects = as_canvas_objects(flat, brush)
    return {
        "image": image,
        "strokes": strokes,
        "heights": heights,
        "brush": brush,
        "scheme": scheme,
        "objects": objects,
    }


def finished_late(number: dict, rng: np.random.Generator, share: float = 0.5) -> list[dict]:
    """The number's canvas objects with, for a `share` of its digits written in several strokes (but the last digit),
    the last stroke (a 4's, 5's or 7's bar, a 5's cap) written after the next digit: a person going back to finish."""
    spans, start = [], 0
    for digit in number["strokes"]:
        spans.append(list(range(start, start + len(digit))))
        start += len(digit)
    order, carried = [], None
    for k, span in enumerate(spans):
        late = len(span) > 1 and k + 1 < len(spans) and rng.random() < share
        order += span[:-1] if late else span
        order += [] if carried is None else [carried]
        carried = span[-1] if late else None
    return [number["objects"][k] for k in order]


def one_by_one(number: dict) -> np.ndarray:
    """The number's digits each drawn alone on a HEIGHT-px square canvas (same size, brush, scheme): (n, 28, 28)."""
    alone = []
    for strokes in number["strokes"]:
        points = np.concatenate(strokes)
        shift = HEIGHT / 2 - (points.min(axis=0) + points.max(axis=0)) / 2
        image = pendigits.render_strokes([s + shift for s in strokes], number["brush"], number["scheme"], HEIGHT)
        alone.append(canvas_to_mnist(image))
    return np.stack(alone)


def on_square(
    strokes: list[np.ndarray],
    brush: float,
    scheme: str,
    rng: np.random.Generator,
    supersample: int = pendigits.SUPERSAMPLE,
) -> np.ndarray:
    """Strokes (canvas pixels) moved to a random place on the square single-digit canvas, shrunk if too wide."""
    return pendigits.render_strokes(placed_on_square(strokes, brush, rng), brush, scheme, HEIGHT, supersample)


def placed_on_square(strokes: list[np.ndarray], brush: float, rng: np.random.Generator) -> list[np.ndarray]:
    """on_square's strokes where it draws them, in canvas pixels."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = min(1.0, (HEIGHT - 2 * brush - 10) / max(high - low))
    room = HEIGHT - brush - (high - low) * scale
    start = brush / 2 + rng.uniform(0.1, 0.9, size=2) * np.clip(room - brush / 2, 0, None)
    return [(s - low) * scale + start for s in strokes]


def side_by_side(
    digits: list[pendigits.PenDigit], rng: np.random.Generator, supersample: int = pendigits.SUPERSAMPLE
) -> tuple[np.ndarray, list[dict]]:
    """Two (or more) digits written side by side on the single-digit canvas: its image (HEIGHT, HEIGHT, 4) uint8
    and the canvas's objects for its strokes, as the Draw page gets both."""
    number = compose(digits, rng, sizes=(0.3, 0.5))
    strokes = [s for d in number["strokes"] for s in d]
    return drawn_on_square(strokes, number["brush"], number["scheme"], rng, supersample)


def drawn_on_square(
    strokes: list[np.ndarray],
    brush: float,
    scheme: str,
    rng: np.random.Generator,
    supersample: int = pendigits.SUPERSAMPLE,
) -> tuple[np.ndarray, list[dict]]:
    """on_square's image and the canvas's objects for its strokes where it draws them: what the Draw page gets."""
    placed = placed_on_square(strokes, brush, rng)
    image = pendigits.render_strokes(placed, brush, scheme, HEIGHT, supersample)
    return image, as_canvas_objects(placed, brush)


def scribble(rng: np.random.Generator) -> list[np.ndarray]:
    """A random scribble: one smooth stroke through 4-12 random points, in canvas pixels."""
    knots = rng.uniform(40, 240, size=(int(rng.integers(4, 13)), 2))
    t = np.linspace(0, len(knots) - 1, 40 * len(knots))
    return [np.column_stack([np.interp(t, np.arange(len(knots)), knots[:, k]) for k in (0, 1)])]


def sign(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """A '+', 'x' or '?' as strokes in canvas pixels, 80-200 px across, a little askew."""
    size, angle = rng.uniform(80, 200), rng.normal(0, 0.15)
    if kind == "+":
        unit = [np.array([[-0.5, 0.0], [0.5, 0.0]]), np.array([[0.0, -0.5], [0.0, 0.5]])]
    elif kind == "x":
        unit = [np.array([[-0.5, -0.5], [0.5, 0.5]]), np.array([[0.5, -0.5], [-0.5, 0.5]])]
    elif kind == "?":
        arc = np.linspace(np.pi, -0.5 * np.pi, 30)  # from the left, over the top, down to the middle
        hook = np.column_stack([0.3 * np.cos(arc), -0.2 + 0.25 * np.sin(-arc)])
        unit = [np.vstack([hook, [[0.0, 0.2]]]), np.array([[0.0, 0.45]])]
    else:
        raise ValueError(f"unknown sign {kind!r}; expected '+', 'x' or '?'")
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return [(u * size * rng.uniform(0.8, 1.2, size=2)) @ turn.T + HEIGHT / 2 for u in unit]

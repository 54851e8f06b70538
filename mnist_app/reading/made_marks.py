"""Marks that are no digit, made for teaching the not-a-digit check (marks.py): scribbles, zigzags, curls, and the
signs + x ? * = #, drawn on the 280 px canvas as a person would, with any brush of the slider and any colour scheme.

Every function is seeded by its generator and returns strokes in canvas pixels (a list of (n, 2) arrays, x then y).
benchmarks/not_one_digit.py measures with marks of its own (mnist_app/numbers/written.py), made by other code and
other seeds: what this module makes is for fitting only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from mnist_app.data import pendigits
from mnist_app.preprocess import EmptyCanvasError, canvas_to_mnist

CANVAS = pendigits.CANVAS
BRUSHES = pendigits.BRUSH_RANGE  # the Draw page's slider
KINDS = ("scribble", "smooth scribble", "zigzag", "curls", "+", "x", "?", "*", "=", "#")
MIX = ("scribble",) * 5 + ("smooth scribble", *KINDS[1:])  # scribbles vary the most, and pass the most: more of them
AS_THE_CANVAS = pendigits.CANVAS_SUPERSAMPLE  # every mark is rendered as Chromium's canvas renders it


def scribble(rng: np.random.Generator) -> list[np.ndarray]:
    """Straight strokes through 3-14 random points: what a hand does scribbling."""
    knots = rng.uniform(0, 1, size=(int(rng.integers(3, 15)), 2))
    return [_through(knots, 30)]


def smooth_scribble(rng: np.random.Generator) -> list[np.ndarray]:
    """The same, its corners rounded: a looping scribble."""
    line = _through(rng.uniform(0, 1, size=(int(rng.integers(4, 15)), 2)), 30)
    return [ndimage.gaussian_filter1d(line, sigma=rng.uniform(4, 15), axis=0, mode="nearest")]


def zigzag(rng: np.random.Generator) -> list[np.ndarray]:
    """Back and forth, a little lower each time: crossing something out."""
    lines = int(rng.integers(4, 20))
    x = np.where(np.arange(lines) % 2, 1.0, 0.0) + rng.normal(0, 0.05, lines)
    return [_through(np.column_stack([x, np.linspace(0, 1, lines) + rng.normal(0, 0.02, lines)]), 20)]


def curls(rng: np.random.Generator) -> list[np.ndarray]:
    """A circle or a line with small loops all along it, or a spiral."""
    t = np.linspace(0, 2 * np.pi * rng.uniform(0.6, 1.2), 300)
    loops, small = rng.integers(5, 14), rng.uniform(0.1, 0.3)
    if rng.random() < 0.3:  # a spiral
        r = np.linspace(0.05, 0.5, 300)
        return [np.column_stack([r * np.cos(3 * t), r * np.sin(3 * t)])]
    if rng.random() < 0.5:  # along a line
        return [np.column_stack([t / t[-1] + small * np.cos(loops * t), small * np.sin(loops * t)])]
    circle = 0.5 * np.column_stack([np.cos(t), np.sin(t)])
    return [circle + small * np.column_stack([np.cos(loops * t), np.sin(loops * t)])]


def sign(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """One of + x ? * = #, a little askew and uneven."""

    def j(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.06, shape)  # a hand's unevenness

    if kind == "+":
        return [np.array([[-0.5, 0], [0.5, 0]]) + j(2, 2), np.array([[0, -0.5], [0, 0.5]]) + j(2, 2)]
    if kind == "x":
        return [np.array([[-0.5, -0.5], [0.5, 0.5]]) + j(2, 2), np.array([[0.5, -0.5], [-0.5, 0.5]]) + j(2, 2)]
    if kind == "*":
        return [np.array([[np.cos(a), np.sin(a)], [-np.cos(a), -np.sin(a)]]) * 0.5 + j(2, 2) for a in (0.5, 1.6, 2.6)]
    if kind == "=":
        return [np.array([[-0.5, y], [0.5, y]]) + j(2, 2) for y in (-0.2, 0.2)]
    if kind == "#":
        bars = [np.array([[-0.5, y], [0.5, y]]) for y in (-0.2, 0.2)]
        return [b + j(2, 2) for b in bars + [b[:, ::-1] for b in bars]]
    if kind == "?":
        return _question(rng)
    raise ValueError(f"unknown sign {kind!r}; expected one of {KINDS[4:]}")


def _question(rng: np.random.Generator) -> list[np.ndarray]:
    """A hook over a stem, and a dot under it that may touch it or lie well below."""
    arc = np.linspace(np.pi + rng.uniform(-0.3, 0.3), -0.5 * np.pi + rng.uniform(-0.3, 0.3), 40)
    width, stem = rng.uniform(0.2, 0.4), rng.uniform(0.1, 0.3)
    hook = np.column_stack([width * np.cos(arc), -0.25 + 0.25 * np.sin(-arc)])
    end = hook[-1] + [rng.normal(0, 0.03), stem]
    dot = end + [rng.normal(0, 0.03), rng.uniform(0.05, 0.3)]
    return [np.vstack([hook, end]), dot[None]]


def strokes(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """A mark of `kind` (one of KINDS), in unit coordinates."""
    made = {"scribble": scribble, "smooth scribble": smooth_scribble, "zigzag": zigzag, "curls": curls}
    return made[kind](rng) if kind in made else sign(kind, rng)


def drawn(kind: str, rng: np.random.Generator) -> np.ndarray:
    """A mark of `kind` drawn on the canvas: 60-250 px, squeezed or stretched, anywhere, any brush and scheme."""
    marks, brush = strokes(kind, rng), rng.uniform(*BRUSHES)
    points = np.concatenate(marks)
    low, span = points.min(axis=0), np.maximum(np.ptp(points, axis=0), 1e-6)
    room = CANVAS - 2 * brush - 10
    scale = rng.uniform(60, room) / span.max() * np.array([1.0, rng.uniform(0.6, 1.4)])
    scale *= min(1.0, room / (span * scale).max())
    start = brush + 5 + rng.uniform(0, 1, 2) * (room - span * scale)
    scheme = pendigits.SCHEMES[rng.integers(len(pendigits.SCHEMES))]
    return pendigits.render_strokes([(m - low) * scale + start for m in marks], brush, scheme, CANVAS, AS_THE_CANVAS)


def made(count: int, seed: int, seen: Callable[[np.ndarray], np.ndarray] = canvas_to_mnist) -> np.ndarray:
    """`count` marks, every kind of MIX in turn, as `seen` turns a canvas drawing into (28, 28): (n, 28, 28) float32.
    A mark whose ink covers most of the canvas reads as a blank one and is left out, so n may be a little under
    `count`. Drawn as the canvas draws."""
    images = []
    for k in range(count):
        try:
            images.append(seen(drawn(MIX[k % len(MIX)], np.random.default_rng((seed, k)))))
        except EmptyCanvasError:
            continue
    return np.stack(images)


def _through(knots: np.ndarray, steps: int) -> np.ndarray:
    """Straight lines from knot to knot, `steps` points each."""
    t = np.linspace(0, len(knots) - 1, steps * (len(knots) - 1) + 1)
    return np.column_stack([np.interp(t, np.arange(len(knots)), knots[:, k]) for k in (0, 1)])

"""The canvas's strokes: streamlit-drawable-canvas's json_data objects (fabric.js paths) <-> point lists in pixels.

The canvas gives each pen stroke as a path object in the order written: "M" where the pen went down, a "Q" curve
through the midpoints of the points it sampled, "L" where it went up, in canvas coordinates; the object's left and
top place its centre (fabric 7's default origin), so a stroke moved with the canvas's toolbar is moved here too.
`as_canvas_objects` writes strokes in that same form, so the benchmark and tests hand read_number what the page does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .reading import StrokesError

MAX_STROKES = 400  # more objects are refused: a number is tens of strokes
MAX_COMMANDS = 50_000  # path commands in all: a canvas samples a stroke every few pixels
MAX_BRUSH = 200.0  # px: the page's slider stops at 40
CURVE_STEPS = (0.5, 1.0)  # where each curved piece is sampled: the pencil samples every few pixels
_ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


@dataclass(frozen=True)
class Stroke:
    """One pen stroke: its points (n, 2) float64 (x, y) in canvas pixels, as written, and the brush's width."""

    points: np.ndarray
    width: float


def from_canvas(strokes) -> list[Stroke]:
    """The canvas's json_data (a dict with "objects") or its objects list -> the strokes in writing order.

    Objects that are not paths (the canvas's other tools) are left out; None or no paths give []. StrokesError for
    what no canvas gives: wrong types, unknown path commands, numbers that are not finite, too many strokes."""
    if strokes is None:
        return []
    objects = strokes.get("objects", []) if isinstance(strokes, dict) else strokes
    if not isinstance(objects, list | tuple):
        raise StrokesError(f"strokes must be the canvas's objects (a list), got {type(objects).__name__}")
    if len(objects) > MAX_STROKES:
        raise StrokesError(f"{len(objects)} strokes; at most {MAX_STROKES} are read")
    if any(not isinstance(o, dict) for o in objects):
        raise StrokesError("every stroke must be a canvas object (a dict with a 'path')")
    paths = [o for o in objects if str(o.get("type", "")).lower() == "path"]
    if sum(len(o.get("path") or ()) for o in paths) > MAX_COMMANDS:
        raise StrokesError(f"the strokes hold more than {MAX_COMMANDS} path commands")
    return [_stroke(o) for o in paths]


def _stroke(obj: dict) -> Stroke:
    """One path object -> its points where the canvas shows them (moved, scaled or turned with the toolbar)."""
    points = _points(obj.get("path"))
    width = _number(obj, "strokeWidth", 1.0)
    if not 0 < width <= MAX_BRUSH:
        raise StrokesError(f"a stroke's width must be in (0, {MAX_BRUSH:g}] px, got {width:g}")
    low, high = points.min(axis=0), points.max(axis=0)
    scale = np.array([_number(obj, "scaleX", 1.0), _number(obj, "scaleY", 1.0)])
    scale *= [-1 if obj.get("flipX") else 1, -1 if obj.get("flipY") else 1]
    size = (high - low + width) * np.abs(scale)
    origin = np.array([_ORIGIN.get(obj.get("originX"), 0.5), _ORIGIN.get(obj.get("originY"), 0.5)])
    placed = np.array([_number(obj, "left", np.nan), _number(obj, "top", np.nan)])
    centre = np.where(np.isfinite(placed), placed + (0.5 - origin) * size, (low + high) / 2)
    angle = math.radians(_number(obj, "angle", 0.0))
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return Stroke(((points - (low + high) / 2) * scale) @ turn.T + centre, width * float(np.abs(scale).mean()))


def _points(path) -> np.ndarray:
    """A path's commands (M, L, Q, C; Z closes) -> (n, 2) points along it, curves sampled at CURVE_STEPS."""
    if not isinstance(path, list | tuple) or not path:
        raise StrokesError("a stroke's 'path' must be a non-empty list of commands such as ['M', x, y]")
    points: list[tuple[float, ...]] = []
    for command in path:
        if not isinstance(command, list | tuple) or not command or command[0] not in _ARITY:
            raise StrokesError(f"unknown path command {str(command)[:40]}: expected M, L, Q, C or Z")
        values = command[1:]
        if len(values) != _ARITY[command[0]] or not all(_is_number(v) for v in values):
            raise StrokesError(f"path command {str(command)[:40]}: expected {_ARITY[command[0]]} finite numbers")
        if command[0] in ("M", "L"):
            points.append(tuple(values))
        elif command[0] == "Q" and points:  # the pencil's: its middle and its end (CURVE_STEPS, written out)
            (x0, y0), (cx, cy, x1, y1) = points[-1], values
            points += [((x0 + x1) / 4 + cx / 2, (y0 + y1) / 4 + cy / 2), (x1, y1)]
        elif command[0] in ("Q", "C"):
            points.extend(_curve(points[-1] if points else values[:2], values))
    if not points:
        raise StrokesError("a stroke's path has no points")
    return np.array(points, dtype=float)


_ARITY = {"M": 2, "L": 2, "Q": 4, "C": 6, "Z": 0}


def _curve(start, values) -> list[tuple[float, float]]:
    """A quadratic (one control point) or cubic (two) Bezier piece from `start`, sampled at CURVE_STEPS."""
    nodes = [tuple(start), *zip(values[::2], values[1::2], strict=True)]
    degree = len(nodes) - 1
    out = []
    for t in CURVE_STEPS:
        weights = [math.comb(degree, k) * t**k * (1 - t) ** (degree - k) for k in range(degree + 1)]
        out.append(tuple(sum(w * node[axis] for w, node in zip(weights, nodes, strict=True)) for axis in (0, 1)))
    return out


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(obj: dict, key: str, default: float) -> float:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isinf(value):
        raise StrokesError(f"a stroke's {key!r} must be a number, got {value!r}")
    return float(value)


def as_canvas_objects(strokes: list[np.ndarray], brush: float) -> list[dict]:
    """Strokes as (n, 2) canvas pixels -> path objects as the canvas's pencil makes them (its json_data objects)."""
    return [_as_path(np.asarray(s, dtype=float), brush) for s in strokes]


def _as_path(points: np.ndarray, brush: float) -> dict:
    """The pencil's path: M at the first point, a Q at each point to the midpoint of the next, L at the last."""
    path = [["M", *points[0]]]
    path += [["Q", *p, *(p + q) / 2] for p, q in zip(points[:-1], points[1:], strict=True) if not np.all(p == q)]
    path.append(["L", *points[-1]])
    low, high = points.min(axis=0), points.max(axis=0)
    path = [[c, *(round(float(v), 3) for v in values)] for c, *values in path]
    left, top = (low + high) / 2
    width, height = high - low
    return {
        "type": "Path", "originX": "center", "originY": "center", "left": float(left), "top": float(top),
        "width": float(width), "height": float(height), "fill": None, "stroke": "#FFFFFF",
        "strokeWidth": float(brush), "strokeLineCap": "round", "strokeLineJoin": "round",
        "scaleX": 1, "scaleY": 1, "angle": 0, "flipX": False, "flipY": False, "path": path,
    }  # fmt: skip

"""What the store accepts: each check returns the value as stored, or raises ValueError naming the problem.

Bad input never reaches the database, so nothing is half written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from mnist_app.store.schema import MAX_NAME, NUMBER_LENGTH, OWNER_LENGTH, UID_LENGTH
from mnist_app.store.visitors import Visitor

FIELD = 28  # the digit's side, as the models read it
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_digits(digits: np.ndarray) -> np.ndarray:
    """An (n, 28, 28) array of finite numbers in [0, 1], as float32; ValueError otherwise."""
    array = np.asarray(digits)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"digits must hold numbers, got dtype {array.dtype}")
    if array.ndim != 3 or array.shape[1:] != (FIELD, FIELD):
        raise ValueError(f"digits must be (n, {FIELD}, {FIELD}), got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError("digits hold NaN or infinite values")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ValueError(f"digit values must lie in [0, 1], got {array.min():g}..{array.max():g}")
    return array


def check_digit(digit: np.ndarray) -> np.ndarray:
    """A (28, 28) array of finite numbers in [0, 1], as float32; ValueError otherwise."""
    array = np.asarray(digit)
    if array.shape != (FIELD, FIELD) and array.dtype != object:
        raise ValueError(f"digit must be ({FIELD}, {FIELD}), got shape {array.shape}")
    return check_digits(array[None])[0]


def check_labels(labels, n: int) -> np.ndarray:
    """n integers 0-9 (bools and fractions refused) as int64; ValueError otherwise."""
    array = np.asarray(labels)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer) or array.shape != (n,):
        raise ValueError(f"labels must be {n} integers 0-9, got {array.dtype} {array.shape}")
    if n and (array.min() < 0 or array.max() > 9):
        raise ValueError(f"labels must be digits 0-9, got {array.min()}..{array.max()}")
    return array.astype(np.int64)


def check_label(label: int) -> int:
    """An integer 0-9 (a bool or a fraction is refused); ValueError otherwise."""
    if isinstance(label, bool | np.bool_) or not isinstance(label, int | np.integer) or not 0 <= label <= 9:
        raise ValueError(f"label must be a digit 0-9, got {label!r}")
    return int(label)


def check_png(canvas_png: bytes | None) -> bytes | None:
    """PNG bytes or None; ValueError for anything else."""
    if canvas_png is None:
        return None
    if not isinstance(canvas_png, bytes | bytearray) or not bytes(canvas_png).startswith(PNG_SIGNATURE):
        raise ValueError("canvas_png must be the bytes of a PNG image")
    return bytes(canvas_png)


def check_probabilities(probabilities, n: int, what: str) -> np.ndarray:
    """(n, 10) finite probabilities in [0, 1] as float64; ValueError naming `what` otherwise."""
    try:
        values = np.asarray(probabilities, dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if values is None or values.shape != (n, 10):
        raise ValueError(f"{what} must be {n} rows of 10 probabilities")
    if not np.isfinite(values).all() or (values.size and (values.min() < 0.0 or values.max() > 1.0)):
        raise ValueError(f"{what} must be finite probabilities in [0, 1]")
    return values


def check_predictions(predictions: Mapping[str, Sequence[float]] | None) -> dict[str, list[float]] | None:
    """{model name: 10 probabilities in [0, 1]} or None; ValueError otherwise."""
    if predictions is None:
        return None
    if not isinstance(predictions, Mapping):
        raise ValueError(f"predictions must map model names to 10 probabilities, got {type(predictions).__name__}")
    checked = {}
    for name, probs in predictions.items():
        if not _numeric(probs):
            raise ValueError(f"predictions[{name!r}] must be 10 probabilities")
        values = check_probabilities([probs], 1, f"predictions[{name!r}]")[0]
        checked[check_name(name, "model name")] = [float(v) for v in values]
    return checked


def check_brush(brush: int | None) -> int | None:
    """A brush width in pixels (1-1000) or None; ValueError otherwise."""
    if brush is None:
        return None
    if isinstance(brush, bool | np.bool_) or not isinstance(brush, int | np.integer) or not 1 <= brush <= 1000:
        raise ValueError(f"brush must be a width in pixels (1-1000), got {brush!r}")
    return int(brush)


def check_name(value: str | None, what: str, optional: bool = False) -> str | None:
    """A text of 1-128 characters (a model name, a session id), or None where optional; ValueError otherwise."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
        raise ValueError(f"{what} must be a text of 1-{MAX_NAME} characters, got {value!r}")
    return value


def _numeric(values) -> bool:
    try:
        return all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values)
    except TypeError:
        return False


def check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not 0 < len(owner) <= OWNER_LENGTH:
        raise ValueError(f"an owner is an owner key (visitors.Visitor.owner) of 1-{OWNER_LENGTH} characters")
    return owner


def check_visitor(visitor: Visitor) -> Visitor:
    if not isinstance(visitor, Visitor):
        raise ValueError(f"visitor must be a visitors.Visitor (a secret's owner and writer), not {type(visitor)}")
    check_owner(visitor.owner)
    check_name(visitor.writer, "writer")
    return visitor


def check_number(number) -> tuple[str | None, int | None]:
    """(the id its number's digits share, its place there from 1), from such a pair or None; ValueError otherwise."""
    if number is None:
        return None, None
    if not isinstance(number, tuple) or len(number) != 2:
        raise ValueError(f"number must be (its id, its place), got {number!r}")
    token, place = number
    if not isinstance(token, str) or not 0 < len(token) <= NUMBER_LENGTH or not token.isalnum():
        raise ValueError(f"a number's id must be 1-{NUMBER_LENGTH} letters or digits, got {token!r}")
    if isinstance(place, bool) or not isinstance(place, int | np.integer) or not 1 <= place <= 64:
        raise ValueError(f"a digit's place in its number must be 1-64, got {place!r}")
    return token, int(place)


def check_shared(shared) -> bool:
    if not isinstance(shared, bool | np.bool_):
        raise ValueError(f"shared must be True or False, not {shared!r}")
    return bool(shared)


def check_uids(uids: Sequence[str], n: int) -> list[str]:
    values = [str(u) for u in uids]
    if len(values) != n or any(not 0 < len(u) <= UID_LENGTH for u in values) or len(set(values)) != n:
        raise ValueError(f"uids must be {n} distinct texts of 1-{UID_LENGTH} characters")
    return values


def per_drawing(value, n: int, what: str) -> list:
    """One value per drawing: a single value repeated, or a sequence of exactly n; ValueError otherwise."""
    if isinstance(value, str | datetime):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{what} must be one value or {n}, got {len(values)}")
    return values

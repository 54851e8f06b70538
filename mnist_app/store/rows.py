"""What the store hands back: a saved drawing, a set of drawings as arrays, what a delete removed; and the pure
conversions between them and the database's rows (digits as raw bytes, canvases as PNG)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from PIL import Image

from mnist_app.store.checks import FIELD


@dataclass(frozen=True)
class Drawing:
    """One saved drawing, as the gallery shows it."""

    id: int
    created_at: datetime  # UTC
    label: int
    digit: np.ndarray  # (28, 28) float32 in [0, 1]
    canvas_png: bytes | None
    predictions: dict[str, list[float]]
    model: str | None
    brush: int | None
    owner: str  # an owner key: compare it, never show it
    writer: str
    shared: bool
    uid: str
    number: str | None = None  # saved from the Number mode: the id its number's digits share
    place: int | None = None  # ... and its place there, 1 for the leftmost


@dataclass(frozen=True)
class DrawnSet:
    """Drawings as arrays, oldest first: for training, measuring and files."""

    ids: np.ndarray  # (n,) int64
    images: np.ndarray  # (n, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (n,) int64
    writers: np.ndarray  # (n,) str: public pseudonyms, one per hand (never an owner key)
    uids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))  # (n,) str
    created_at: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="datetime64[us]"))  # (n,) UTC

    @property
    def session_ids(self) -> np.ndarray:
        """The writers, under the name train.py and the benchmarks still split by."""
        return self.writers


@dataclass(frozen=True)
class Removed:
    """What a delete took away, whole, so that `DrawingStore.restore` can put it back (an undo); falsy when nothing."""

    drawings: tuple[dict, ...] = ()
    readings: tuple[dict, ...] = ()

    @property
    def ids(self) -> list[int]:
        return [row["id"] for row in self.drawings]

    def __bool__(self) -> bool:
        return bool(self.drawings)


def digit_of(raw: bytes) -> np.ndarray:
    """A stored digit's bytes as the (28, 28) float32 array the models read."""
    return np.frombuffer(raw, dtype="<f4").reshape(FIELD, FIELD).astype(np.float32)


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def drawn_set(rows) -> DrawnSet:
    """Rows of the drawings table (id, digit, label, writer, uid, created_at) as arrays."""
    return DrawnSet(
        ids=np.array([r.id for r in rows], dtype=np.int64),
        images=np.stack([digit_of(r.digit) for r in rows]) if rows else np.zeros((0, FIELD, FIELD), np.float32),
        labels=np.array([r.label for r in rows], dtype=np.int64),
        writers=np.array([r.writer for r in rows], dtype=str),
        uids=np.array([r.uid for r in rows], dtype=str),
        created_at=np.array([_utc(r.created_at).replace(tzinfo=None) for r in rows], dtype="datetime64[us]"),
    )


def joined(parts: list[DrawnSet]) -> DrawnSet:
    if not parts:
        return drawn_set([])
    return DrawnSet(*(np.concatenate([getattr(p, f) for p in parts]) for f in DrawnSet.__dataclass_fields__))


def drawing_of(row) -> Drawing:
    predictions = row.predictions if not isinstance(row.predictions, str) else json.loads(row.predictions)
    return Drawing(
        id=row.id,
        created_at=_utc(row.created_at),
        label=row.label,
        digit=digit_of(row.digit),
        canvas_png=row.canvas_png,
        predictions=predictions or {},
        model=row.model,
        brush=row.brush,
        owner=row.owner,
        writer=row.writer,
        shared=bool(row.shared),
        uid=row.uid,
        number=row.number,
        place=row.place,
    )


def canvas_png(image: np.ndarray) -> bytes:
    """The canvas as drawn ((H, W, 4) RGBA or (H, W) grey, uint8) as PNG bytes."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"canvas must be a uint8 (H, W) or (H, W, C) image, got {array.dtype} {array.shape}")
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def split_by_session(session_ids: np.ndarray, val_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices): whole sessions go to one side, so that validation never sees
    a hand that training saw. About `val_fraction` of the sessions (at least one, when there are two or more)."""
    sessions = np.unique(np.asarray(session_ids, dtype=str))
    rng = np.random.default_rng(seed)
    n_val = min(len(sessions) - 1, max(1, round(len(sessions) * val_fraction))) if len(sessions) > 1 else 0
    held = set(rng.permutation(sessions)[:n_val].tolist())
    in_val = np.array([s in held for s in np.asarray(session_ids, dtype=str)], dtype=bool)
    return np.flatnonzero(~in_val), np.flatnonzero(in_val)

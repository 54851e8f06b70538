"""The drawing store: what people draw, with its true label, kept to measure and train the models on.

Pen-tablet digits replayed as drawings only stand in for what people draw with a mouse or a finger;
the drawings saved here are the real thing. One row per saved drawing: the 28x28 digit the models
read, the canvas as drawn (PNG), the label the person gave, every model's probabilities and the model
shown at the time, the brush width, when (UTC), a random uid that export and import keep, and whose it is
(visitors.py): an owner key that grants rights and is never shown, a public writer pseudonym, and whether it is
shared (in the public set: the gallery others see, the files, what training reads) or its owner's alone. Each
model version's reading of each drawing is a row too (readings.py).

SQLAlchemy Core, so that one file works alone (SQLite, the default: nothing to install) and several
app servers can share one PostgreSQL database (`MNIST_APP_DB=postgresql+psycopg://...`). The tables and
their migrations: schema.py; the connection and its errors: database.py; what is accepted: drawing_checks.py;
files in and out: drawing_files.py; the command line: `python -m mnist_app.store_cli`.
"""

from __future__ import annotations

import io
import json
import secrets
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.engine import Connection

from . import database
from .database import StoreError, default_url, safe_url
from .drawing_checks import (
    FIELD,
    check_brush,
    check_digit,
    check_digits,
    check_label,
    check_labels,
    check_name,
    check_png,
    check_predictions,
    check_probabilities,
)
from .schema import (
    COUNT_SHARDS,
    DRAWINGS,
    OWNER_LENGTH,
    READING_COUNTS,
    READINGS,
    SCHEMA_VERSION,
    UID_LENGTH,
    ensure_schema,
    recorded_version,
)
from .visitors import NOBODY, Visitor, new_secret

__all__ = ["NOBODY", "SCHEMA_VERSION", "Drawing", "DrawingStore", "DrawnSet", "Removed", "StoreError", "Visitor"]
# the same UPSERT in SQLite and PostgreSQL; as text, so that a save spends no time building it (16 savers share one
# process's Python: each millisecond of it per save is 16 ms of waiting at the 16th)
TALLY = sa.text(
    "INSERT INTO reading_counts (model, version, label, predicted, shard, drawings) "
    "VALUES (:model, :version, :label, :predicted, :shard, :drawings) "
    "ON CONFLICT (model, version, label, predicted, shard) DO UPDATE "
    "SET drawings = reading_counts.drawings + excluded.drawings"
)
INSERT_BATCH = 2_000  # rows per INSERT statement in add_many: big enough to be fast, small enough for any driver


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


class DrawingStore:
    """Saved drawings in any SQLAlchemy database; safe to share between threads and processes."""

    def __init__(self, url: str | None = None):
        self.url = safe_url(url or default_url())
        with database.errors("open", self.url):
            self._engine = database.engine(url or default_url())
            self.dialect = self._engine.dialect.name
            self._visitor = Visitor.of(new_secret())  # whose drawings are those added without an owner
            with database.writing(self._engine) as conn:
                ensure_schema(conn, self.url)

    def __repr__(self) -> str:
        return f"DrawingStore({self.url!r})"

    def close(self) -> None:
        """Closes the pooled connections."""
        self._engine.dispose()

    @contextmanager
    def reading(self, doing: str, *, snapshot: bool = False) -> Iterator[Connection]:
        """A connection to read with, in one transaction; failures become StoreError. With `snapshot`, every statement
        sees the same drawings (PostgreSQL's REPEATABLE READ; an SQLite transaction always does)."""
        with database.errors(doing, self.url), self._engine.connect() as conn:
            if snapshot and self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def connection(self, doing: str) -> Iterator[Connection]:
        """A connection outside any transaction (each statement commits): for session locks held a long while."""
        with database.errors(doing, self.url), self._engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def writing(self, doing: str) -> Iterator[Connection]:
        """A write transaction (database.writing); failures become StoreError and write nothing."""
        with database.errors(doing, self.url), database.writing(self._engine) as conn:
            yield conn

    def add(
        self,
        digit: np.ndarray,
        label: int,
        *,
        canvas_png: bytes | None = None,
        predictions: dict[str, list[float]] | None = None,
        versions: dict[str, str] | None = None,
        model: str | None = None,
        brush: int | None = None,
        visitor: Visitor | None = None,
        shared: bool = True,
    ) -> int:
        """Stores one drawing, `visitor`'s (default: this store's own, nobody else's), in the public set if `shared`,
        and returns its id; the predictions of the models named in `versions` ({name: version, models.version}) are
        stored as those versions' readings too. Bad input raises ValueError and writes nothing."""
        checked = check_predictions(predictions) or {}
        unknown = set(versions or {}) - set(checked)
        if unknown:
            raise ValueError(f"versions names models without predictions: {sorted(unknown)}")
        readings = {(name, version): np.asarray([checked[name]]) for name, version in (versions or {}).items()}
        visitor = _checked_visitor(visitor or self._visitor)
        row = {
            "created_at": datetime.now(UTC),
            "label": check_label(label),
            "digit": check_digit(digit).astype("<f4").tobytes(),
            "canvas_png": check_png(canvas_png),
            "predictions": checked or None,
            "model": check_name(model, "model", optional=True),
            "brush": check_brush(brush),
            "owner": visitor.owner,
            "writer": visitor.writer,
            "shared": _checked_shared(shared),
            "uid": secrets.token_hex(UID_LENGTH // 2),
        }
        with self.writing("save a drawing in") as conn:
            new_id = int(conn.execute(DRAWINGS.insert().returning(DRAWINGS.c.id), row).scalar_one())
            insert_readings(conn, np.array([new_id]), np.array([row["label"]]), readings)
        return new_id

    def add_many(
        self,
        digits: np.ndarray,
        labels,
        *,
        writers: str | Sequence[str] | None = None,
        owner: str = NOBODY,
        uids: Sequence[str] | None = None,
        created_at: Sequence[datetime] | None = None,
        readings: Mapping[tuple[str, str], np.ndarray] | None = None,
        skip_known: bool = False,
    ) -> np.ndarray:
        """Stores many shared drawings in one transaction and returns the new ids, in order.

        `writers` are public pseudonyms (an export's); `owner` an owner key, by default nobody's (an import: only the
        admin token deletes them). `readings` maps (model, version) to (n, 10) probabilities. `uids` (an export's)
        identify drawings across stores: with `skip_known`, a drawing whose uid is already stored is left out
        (importing twice adds nothing twice). Bad input raises ValueError and writes nothing."""
        images = check_digits(digits)
        n = len(images)
        labels = check_labels(labels, n)
        hands = _per_drawing(self._visitor.writer if writers is None else writers, n, "writers")
        hands = [check_name(w, "writer") for w in hands]
        owner = _checked_owner(owner)
        uids = [secrets.token_hex(UID_LENGTH // 2) for _ in range(n)] if uids is None else _checked_uids(uids, n)
        when = _per_drawing(created_at or datetime.now(UTC), n, "created_at")
        checked = {key: check_probabilities(p, n, f"readings[{key!r}]") for key, p in (readings or {}).items()}
        raw = images.astype("<f4")
        with self.writing("save drawings in") as conn:
            keep = np.ones(n, dtype=bool)
            if skip_known:
                keep = ~np.isin(np.asarray(uids), list(_known_uids(conn, uids)))
            rows = [
                {"created_at": when[i], "label": int(labels[i]), "digit": raw[i].tobytes(), "writer": hands[i]}
                | {"uid": uids[i], "canvas_png": None, "predictions": None, "model": None, "brush": None}
                | {"owner": owner, "shared": True}
                for i in np.flatnonzero(keep)
            ]
            ids = np.array(_inserted_ids(conn, rows), dtype=np.int64)
            insert_readings(conn, ids, labels[keep], {key: p[keep] for key, p in checked.items()})
        return ids

    def count(
        self,
        label: int | None = None,
        *,
        misread_by: tuple[str, str] | None = None,
        owner: str | None = None,
        viewer: str | None = None,
    ) -> int:
        """How many drawings there are (of one label, or misread by one (model, version), if given): the public set
        (and `viewer`'s own), or only `owner`'s, private ones too. The misread count of everyone's is the kept
        counts (tally), which count private drawings too: a few rows, not every reading."""
        if misread_by is not None and owner is None and viewer is None:
            query = sa.select(sa.func.coalesce(sa.func.sum(READING_COUNTS.c.drawings), 0))
            query = query.where(*_misread(misread_by, label, READING_COUNTS))
        elif misread_by is not None:
            query = sa.select(sa.func.count()).select_from(READINGS).where(*_misread(misread_by, label))
            query = query.join(DRAWINGS, DRAWINGS.c.id == READINGS.c.drawing_id)
            query = query.where(*_visible(owner, viewer))
        else:
            query = sa.select(sa.func.count()).select_from(DRAWINGS).where(*_visible(owner, viewer))
            if label is not None:
                query = query.where(DRAWINGS.c.label == check_label(label))
        with self.reading("count the drawings in") as conn:
            return int(conn.execute(query).scalar_one())

    def counts(self, owner: str | None = None) -> dict[int, int]:
        """Drawings per label (the public set, or one owner's, private ones too), every digit 0-9 present."""
        query = sa.select(DRAWINGS.c.label, sa.func.count()).where(*_visible(owner, None)).group_by(DRAWINGS.c.label)
        with self.reading("count the drawings in") as conn:
            found = dict(conn.execute(query).all())
        return {d: int(found.get(d, 0)) for d in range(10)}

    def revision(self) -> tuple[int, int]:
        """(count, last id): changes whenever a drawing is added or deleted (ids are never reused)."""
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(DRAWINGS.c.id), 0))
        with self.reading("read") as conn:
            count, last = conn.execute(query.select_from(DRAWINGS)).one()
        return int(count), int(last)

    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """The public set: (images (n, 28, 28) float32 in [0, 1], labels (n,) int64), oldest first."""
        drawn = self.dataset()
        return drawn.images, drawn.labels

    def dataset(self, owner: str | None = None) -> DrawnSet:
        """The public set (or one owner's drawings, private ones too) as arrays, oldest first: for training."""
        parts = list(self.batches(owner=owner))
        return _joined(parts)

    def batches(self, size: int = 10_000, *, owner: str | None = None) -> Iterator[DrawnSet]:
        """The public set (or one owner's drawings) as arrays, oldest first, `size` at a time, all from one snapshot:
        memory holds one batch."""
        columns = (DRAWINGS.c.id, DRAWINGS.c.digit, DRAWINGS.c.label, DRAWINGS.c.writer, DRAWINGS.c.uid)
        query = sa.select(*columns, DRAWINGS.c.created_at).where(*_visible(owner, None)).order_by(DRAWINGS.c.id)
        with self.reading("export the drawings from", snapshot=True) as conn:
            result = conn.execution_options(stream_results=True, yield_per=size).execute(query)
            for rows in result.partitions(size):
                yield drawn_set(rows)

    def page(
        self,
        offset: int = 0,
        limit: int = 24,
        *,
        label: int | None = None,
        misread_by: tuple[str, str] | None = None,
        owner: str | None = None,
        viewer: str | None = None,
    ) -> list[Drawing]:
        """One page of the gallery, newest first: the public set and `viewer`'s own, or only `owner`'s; optionally
        one label, or those one (model, version) misread. Reads the page's rows only, on an index."""
        if misread_by is not None:
            ids = sa.select(READINGS.c.drawing_id.label("id")).where(*_misread(misread_by, label))
            ids = ids.join(DRAWINGS, DRAWINGS.c.id == READINGS.c.drawing_id)
        else:
            ids = sa.select(DRAWINGS.c.id)
            if label is not None:
                ids = ids.where(DRAWINGS.c.label == check_label(label))
        ids = ids.where(*_visible(owner, viewer))
        ids = ids.order_by(sa.desc("id")).offset(max(0, offset)).limit(max(0, limit))  # on an index: the ids only
        query = sa.select(DRAWINGS).where(DRAWINGS.c.id.in_(ids.scalar_subquery()))
        with self.reading("list the drawings in") as conn:
            return [_drawing(row) for row in conn.execute(query.order_by(DRAWINGS.c.id.desc()))]

    def fetch(self, ids: Sequence[int]) -> list[Drawing]:
        """The drawings with these ids, in the order given (missing ids are left out), private ones too: for the
        server's own use (readings), never a page's."""
        wanted = [int(i) for i in ids]
        with self.reading("read the drawings in") as conn:
            rows = {r.id: _drawing(r) for r in conn.execute(sa.select(DRAWINGS).where(DRAWINGS.c.id.in_(wanted)))}
        return [rows[i] for i in wanted if i in rows]

    def delete(self, ids: int | Sequence[int], *, owner: str | None = None) -> Removed:
        """Deletes drawings (only `owner`'s, if given; any, for the admin) with their readings, and returns what was
        removed, for an undo; empty (falsy) when none of them was there (or `owner`'s) any more."""
        wanted = [int(ids)] if isinstance(ids, int | np.integer) else [int(i) for i in ids]
        where = DRAWINGS.c.id.in_(wanted)
        if owner is not None:
            where = sa.and_(where, DRAWINGS.c.owner == _checked_owner(owner))
        with self.writing("delete drawings from") as conn:
            # locked first, so that a reading being made of one of them is either counted here or never stored
            drawings = tuple(dict(r._mapping) for r in conn.execute(sa.select(DRAWINGS).where(where).with_for_update()))
            found = [row["id"] for row in drawings]
            readings = tuple(
                dict(r._mapping) for r in conn.execute(sa.select(READINGS).where(READINGS.c.drawing_id.in_(found)))
            )
            conn.execute(READINGS.delete().where(READINGS.c.drawing_id.in_(found)))
            tally(conn, readings, -1)
            conn.execute(DRAWINGS.delete().where(DRAWINGS.c.id.in_(found)))
        return Removed(drawings, readings)

    def restore(self, removed: Removed) -> int:
        """Puts deleted drawings back, with their ids and readings (an undo); returns how many came back (a drawing
        restored already, elsewhere, is left as it is)."""
        with self.writing("restore drawings in") as conn:
            present = set(conn.execute(sa.select(DRAWINGS.c.id).where(DRAWINGS.c.id.in_(removed.ids))).scalars())
            drawings = [row for row in removed.drawings if row["id"] not in present]
            readings = [row for row in removed.readings if row["drawing_id"] not in present]
            if drawings:
                conn.execute(DRAWINGS.insert(), drawings)
            store_readings(conn, readings)
        return len(drawings)

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self.reading("read") as conn:
            return recorded_version(conn)


def _per_drawing(value, n: int, what: str) -> list:
    """One value per drawing: a single value repeated, or a sequence of exactly n."""
    if isinstance(value, str | datetime):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{what} must be one value or {n}, got {len(values)}")
    return values


def _visible(owner: str | None, viewer: str | None) -> list:
    """Where-clauses: only `owner`'s drawings (private ones too), else the public set and `viewer`'s own."""
    if owner is not None:
        return [DRAWINGS.c.owner == _checked_owner(owner)]
    if viewer is not None:
        return [sa.or_(DRAWINGS.c.shared == sa.true(), DRAWINGS.c.owner == _checked_owner(viewer))]
    return [DRAWINGS.c.shared == sa.true()]


def _checked_owner(owner: str) -> str:
    if not isinstance(owner, str) or not 0 < len(owner) <= OWNER_LENGTH:
        raise ValueError(f"an owner is an owner key (visitors.Visitor.owner) of 1-{OWNER_LENGTH} characters")
    return owner


def _checked_visitor(visitor: Visitor) -> Visitor:
    if not isinstance(visitor, Visitor):
        raise ValueError(f"visitor must be a visitors.Visitor (a secret's owner and writer), not {type(visitor)}")
    _checked_owner(visitor.owner)
    check_name(visitor.writer, "writer")
    return visitor


def _checked_shared(shared) -> bool:
    if not isinstance(shared, bool | np.bool_):
        raise ValueError(f"shared must be True or False, not {shared!r}")
    return bool(shared)


def _checked_uids(uids: Sequence[str], n: int) -> list[str]:
    values = [str(u) for u in uids]
    if len(values) != n or any(not 0 < len(u) <= UID_LENGTH for u in values) or len(set(values)) != n:
        raise ValueError(f"uids must be {n} distinct texts of 1-{UID_LENGTH} characters")
    return values


def _known_uids(conn: Connection, uids: list[str]) -> set[str]:
    known = set()
    for start in range(0, len(uids), INSERT_BATCH):
        chunk = uids[start : start + INSERT_BATCH]
        known.update(conn.execute(sa.select(DRAWINGS.c.uid).where(DRAWINGS.c.uid.in_(chunk))).scalars())
    return known


def _inserted_ids(conn: Connection, rows: list[dict]) -> list[int]:
    ids = []
    for start in range(0, len(rows), INSERT_BATCH):
        insert = DRAWINGS.insert().returning(DRAWINGS.c.id, sort_by_parameter_order=True)
        ids.extend(conn.execute(insert, rows[start : start + INSERT_BATCH]).scalars())
    return ids


def insert_readings(conn: Connection, ids, labels, readings: Mapping[tuple[str, str], np.ndarray]) -> None:
    """One row per (model, version) and drawing: what it read and how sure it was; every model's in one INSERT."""
    rows = []
    for (model, version), probabilities in readings.items():
        probabilities = np.asarray(probabilities, dtype=np.float64)
        predicted, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)
        rows += [
            {"model": model, "version": version, "drawing_id": int(i), "label": int(label)}
            | {"predicted": int(p), "confidence": float(c)}
            for i, label, p, c in zip(ids, labels, predicted, confidence, strict=True)
        ]
    store_readings(conn, rows)


def store_readings(conn: Connection, rows: Sequence[Mapping]) -> None:
    """Readings rows inserted and counted (tally), in the caller's transaction: the one way readings are stored."""
    for start in range(0, len(rows), INSERT_BATCH):
        conn.execute(READINGS.insert(), rows[start : start + INSERT_BATCH])
    tally(conn, rows)


def tally(conn: Connection, readings: Sequence[Mapping], sign: int = 1) -> None:
    """Adds readings stored (sign 1) or deleted (-1) to the counts per model version, true digit and reading, in the
    caller's transaction, in one of the shards. In one order of keys, so that two PostgreSQL writers never wait on
    each other in a cycle."""
    shard = secrets.randbelow(COUNT_SHARDS)
    counted = Counter((r["model"], r["version"], r["label"], r["predicted"], shard) for r in readings)
    if not counted:
        return
    keys = ("model", "version", "label", "predicted", "shard")
    conn.execute(TALLY, [dict(zip(keys, key, strict=True), drawings=sign * n) for key, n in sorted(counted.items())])


def _misread(misread_by: tuple[str, str], label: int | None, table: sa.Table = READINGS) -> list:
    model, version = misread_by
    where = [table.c.model == model, table.c.version == version, table.c.predicted != table.c.label]
    return where if label is None else [*where, table.c.label == check_label(label)]


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


def _joined(parts: list[DrawnSet]) -> DrawnSet:
    if not parts:
        return drawn_set([])
    return DrawnSet(*(np.concatenate([getattr(p, f) for p in parts]) for f in DrawnSet.__dataclass_fields__))


def _drawing(row) -> Drawing:
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

"""Every model version's reading of every saved drawing, as rows the Drawings page asks the database about.

A reading is written when a drawing is saved (the Draw page has just computed every model's probabilities). When a
model changes (a retrain: a new version, models.version), its missing readings are made here once, in batches, by one
process at a time across every server sharing the database: a PostgreSQL advisory lock, or on SQLite a lease row
that a killed server's successor takes over when it expires. Accuracy, the confusion matrix and the misread filter
are SQL aggregates over the readings' index: no step loads every drawing into memory.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mnist_app.store.drawings import DrawingStore
from mnist_app.store.rows import digit_of
from mnist_app.store.schema import DRAWINGS, LEASES, READING_COUNTS, READINGS
from mnist_app.store.tallies import insert_readings

BATCH = 2_000  # drawings read per transaction while making readings
LEASE_S = 120.0  # an SQLite lease lasts this long unless renewed (each batch renews it)


@dataclass(frozen=True)
class Progress:
    """How far one model version's readings are: `done` of `total` drawings."""

    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.done >= self.total


@dataclass(frozen=True)
class Summary:
    """One model version on the saved drawings."""

    read: int
    right: int

    @property
    def accuracy(self) -> float:
        return self.right / self.read if self.read else float("nan")

    @property
    def misread(self) -> int:
        return self.read - self.right


def progress(store: DrawingStore, model: str, version: str) -> Progress:
    """How many drawings the version has read, of how many are stored."""
    done = sa.select(sa.func.coalesce(sa.func.sum(READING_COUNTS.c.drawings), 0)).where(*_counted(model, version))
    with store.reading("count the readings in") as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(DRAWINGS)).scalar_one()
        return Progress(int(conn.execute(done).scalar_one()), int(total))


def summary(store: DrawingStore, model: str, version: str) -> Summary:
    """Drawings read and read right, from the confusion matrix."""
    matrix = confusion(store, model, version)
    return Summary(int(matrix.sum()), int(np.trace(matrix)))


def confusion(store: DrawingStore, model: str, version: str) -> np.ndarray:
    """(10, 10) counts, rows the true digit, columns the reading: the counts the store keeps (tallies.tally)."""
    cell = (READING_COUNTS.c.label, READING_COUNTS.c.predicted)
    query = sa.select(*cell, sa.func.sum(READING_COUNTS.c.drawings)).where(*_counted(model, version)).group_by(*cell)
    matrix = np.zeros((10, 10), dtype=np.int64)
    with store.reading("count the readings in") as conn:
        for label, predicted, count in conn.execute(query):
            matrix[label, predicted] = count
    return matrix


def of_drawings(store: DrawingStore, ids: list[int], versions: dict[str, str]) -> dict[int, dict[str, int]]:
    """{drawing id: {model: the digit it read}} for a page of drawings, by today's versions."""
    pairs = [sa.and_(READINGS.c.model == m, READINGS.c.version == v) for m, v in versions.items()]
    if not ids or not pairs:
        return {}
    columns = (READINGS.c.drawing_id, READINGS.c.model, READINGS.c.predicted)
    query = sa.select(*columns).where(READINGS.c.drawing_id.in_(ids), sa.or_(*pairs))
    found: dict[int, dict[str, int]] = {}
    with store.reading("read the readings in") as conn:
        for drawing_id, model, predicted in conn.execute(query):
            found.setdefault(drawing_id, {})[model] = predicted
    return found


def fill(
    store: DrawingStore,
    model: str,
    version: str,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    on_batch: Callable[[Progress], None] | None = None,
    batch: int = BATCH,
) -> int | None:
    """Makes the version's missing readings, oldest drawing first, `batch` at a time; returns how many it made, or
    None when another process holds the lock for this version (it is making them). A crash loses one batch at most:
    each is its own transaction."""
    made = 0
    with _lock(store, f"readings:{model}:{version}") as held:
        if not held:
            return None
        after = 0
        while True:
            with store.reading("read the drawings in") as conn:
                rows = conn.execute(_missing(model, version, after, batch)).all()
            if not rows:
                return made
            ids = np.array([r.id for r in rows], dtype=np.int64)
            probabilities = predict_proba(np.stack([digit_of(r.digit) for r in rows]))
            with store.writing("save readings in") as conn:
                keep = _unread(conn, ids, model, version)
                labels = np.array([r.label for r in rows], dtype=np.int64)
                insert_readings(conn, ids[keep], labels[keep], {(model, version): probabilities[keep]})
                held.renew(conn)
            made, after = made + int(keep.sum()), int(ids[-1])
            if on_batch is not None:
                on_batch(progress(store, model, version))


def prune(store: DrawingStore, current: dict[str, str]) -> int:
    """Deletes the readings of every model version but `current`'s ({model: version}), with their counts; returns
    how many readings went. Each retrain leaves a million drawings' readings behind it otherwise."""
    removed = 0
    with store.writing("remove old readings from") as conn:
        versions = conn.execute(sa.select(READING_COUNTS.c.model, READING_COUNTS.c.version).distinct()).all()
        for model, version in versions:
            if current.get(model) != version:
                removed += conn.execute(READINGS.delete().where(*_of(model, version))).rowcount
                conn.execute(READING_COUNTS.delete().where(*_counted(model, version)))
    return removed


def _of(model: str, version: str) -> tuple:
    return READINGS.c.model == model, READINGS.c.version == version


def _counted(model: str, version: str) -> tuple:
    return READING_COUNTS.c.model == model, READING_COUNTS.c.version == version


def _missing(model: str, version: str, after: int, limit: int):
    """The next drawings (id > after) that the version has not read."""
    read = sa.select(READINGS.c.drawing_id).where(*_of(model, version), READINGS.c.drawing_id == DRAWINGS.c.id)
    columns = (DRAWINGS.c.id, DRAWINGS.c.digit, DRAWINGS.c.label)
    return sa.select(*columns).where(DRAWINGS.c.id > after, ~read.exists()).order_by(DRAWINGS.c.id).limit(limit)


def _unread(conn: Connection, ids: np.ndarray, model: str, version: str) -> np.ndarray:
    """Which of the drawings just read are still stored and still unread (a delete or a save may have come between)."""
    wanted = ids.tolist()
    stored = set(conn.execute(sa.select(DRAWINGS.c.id).where(DRAWINGS.c.id.in_(wanted))).scalars())
    read = sa.select(READINGS.c.drawing_id).where(*_of(model, version), READINGS.c.drawing_id.in_(wanted))
    done = set(conn.execute(read).scalars())
    return np.array([i in stored and i not in done for i in wanted], dtype=bool)


class _Held:
    """A held lock; `renew` keeps an SQLite lease alive (a PostgreSQL advisory lock needs nothing)."""

    def __init__(self, name: str, holder: str | None):
        self.name, self.holder = name, holder

    def renew(self, conn: Connection) -> None:
        if self.holder is not None:
            update = LEASES.update().where(LEASES.c.name == self.name, LEASES.c.holder == self.holder)
            conn.execute(update.values(expires_at=time.time() + LEASE_S))

    def __bool__(self) -> bool:
        return True


@contextmanager
def _lock(store: DrawingStore, name: str) -> Iterator[_Held | None]:
    """One holder at a time across processes and servers; yields None at once when another holds it."""
    if store.dialect == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with store.connection("lock the readings of") as conn:  # a session lock: it ends with this connection
            if not conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar_one():
                yield None
                return
            try:
                yield _Held(name, None)
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
        return
    holder = secrets.token_hex(8)
    with store.writing("lock the readings of") as conn:
        taken = _take_lease(conn, name, holder)
    if not taken:
        yield None
        return
    try:
        yield _Held(name, holder)
    finally:
        with store.writing("unlock the readings of") as conn:
            conn.execute(LEASES.delete().where(LEASES.c.name == name, LEASES.c.holder == holder))


def _take_lease(conn: Connection, name: str, holder: str) -> bool:
    """Inside a write transaction (SQLite's is exclusive): the lease is ours if free or expired."""
    now = time.time()
    current = conn.execute(sa.select(LEASES.c.expires_at).where(LEASES.c.name == name)).scalar_one_or_none()
    if current is not None and current > now:
        return False
    conn.execute(LEASES.delete().where(LEASES.c.name == name))
    conn.execute(LEASES.insert(), {"name": name, "holder": holder, "expires_at": now + LEASE_S})
    return True

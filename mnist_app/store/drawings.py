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
their migrations: schema.py; the connection and its errors: database.py; what is accepted: checks.py;
the rows it hands back: rows.py; readings and their tallies: tallies.py;
files in and out: files.py; the command line: `python -m mnist_app.store.cli`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mnist_app.store import database
from mnist_app.store.checks import (
    check_brush,
    check_digit,
    check_digits,
    check_label,
    check_labels,
    check_name,
    check_number,
    check_owner,
    check_png,
    check_predictions,
    check_probabilities,
    check_shared,
    check_uids,
    check_visitor,
    per_drawing,
)
from mnist_app.store.database import StoreError, default_url, safe_url
from mnist_app.store.rows import Drawing, DrawnSet, Removed, drawing_of, drawn_set, joined
from mnist_app.store.schema import (
    DRAWINGS,
    INSERT_BATCH,
    READING_COUNTS,
    READINGS,
    SCHEMA_VERSION,
    UID_LENGTH,
    ensure_schema,
    recorded_version,
)
from mnist_app.store.tallies import insert_readings, misread, store_readings, tally
from mnist_app.store.visitors import NOBODY, Visitor, new_secret

__all__ = ["NOBODY", "SCHEMA_VERSION", "Drawing", "DrawingStore", "DrawnSet", "Removed", "StoreError", "Visitor"]
# the same UPSERT in SQLite and PostgreSQL; as text, so that a save spends no time building it (16 savers share one
# process's Python: each millisecond of it per save is 16 ms of waiting at the 16th)


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
        number: tuple[str, int] | None = None,
    ) -> int:
        """Stores one drawing, `visitor`'s (default: this store's own, nobody else's), in the public set if `shared`,
        and returns its id; the predictions of the models named in `versions` ({name: version, models.version}) are
        stored as those versions' readings too; `number`: (the id its number's digits share, its place there from
        1), for a digit of a number. Bad input raises ValueError and writes nothing."""
        checked = check_predictions(predictions) or {}
        unknown = set(versions or {}) - set(checked)
        if unknown:
            raise ValueError(f"versions names models without predictions: {sorted(unknown)}")
        readings = {(name, version): np.asarray([checked[name]]) for name, version in (versions or {}).items()}
        visitor, (number_id, place) = check_visitor(visitor or self._visitor), check_number(number)
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
            "shared": check_shared(shared),
            "uid": secrets.token_hex(UID_LENGTH // 2),
            "number": number_id,
            "place": place,
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
        hands = per_drawing(self._visitor.writer if writers is None else writers, n, "writers")
        hands = [check_name(w, "writer") for w in hands]
        owner = check_owner(owner)
        uids = [secrets.token_hex(UID_LENGTH // 2) for _ in range(n)] if uids is None else check_uids(uids, n)
        when = per_drawing(created_at or datetime.now(UTC), n, "created_at")
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
            query = query.where(*misread(misread_by, label, READING_COUNTS))
        elif misread_by is not None:
            query = sa.select(sa.func.count()).select_from(READINGS).where(*misread(misread_by, label))
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
        return joined(parts)

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
            ids = sa.select(READINGS.c.drawing_id.label("id")).where(*misread(misread_by, label))
            ids = ids.join(DRAWINGS, DRAWINGS.c.id == READINGS.c.drawing_id)
        else:
            ids = sa.select(DRAWINGS.c.id)
            if label is not None:
                ids = ids.where(DRAWINGS.c.label == check_label(label))
        ids = ids.where(*_visible(owner, viewer))
        ids = ids.order_by(sa.desc("id")).offset(max(0, offset)).limit(max(0, limit))  # on an index: the ids only
        query = sa.select(DRAWINGS).where(DRAWINGS.c.id.in_(ids.scalar_subquery()))
        with self.reading("list the drawings in") as conn:
            return [drawing_of(row) for row in conn.execute(query.order_by(DRAWINGS.c.id.desc()))]

    def fetch(self, ids: Sequence[int]) -> list[Drawing]:
        """The drawings with these ids, in the order given (missing ids are left out), private ones too: for the
        server's own use (readings), never a page's."""
        wanted = [int(i) for i in ids]
        with self.reading("read the drawings in") as conn:
            rows = {r.id: drawing_of(r) for r in conn.execute(sa.select(DRAWINGS).where(DRAWINGS.c.id.in_(wanted)))}
        return [rows[i] for i in wanted if i in rows]

    def delete(self, ids: int | Sequence[int], *, owner: str | None = None) -> Removed:
        """Deletes drawings (only `owner`'s, if given; any, for the admin) with their readings, and returns what was
        removed, for an undo; empty (falsy) when none of them was there (or `owner`'s) any more."""
        wanted = [int(ids)] if isinstance(ids, int | np.integer) else [int(i) for i in ids]
        where = DRAWINGS.c.id.in_(wanted)
        if owner is not None:
            where = sa.and_(where, DRAWINGS.c.owner == check_owner(owner))
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


def _visible(owner: str | None, viewer: str | None) -> list:
    """Where-clauses: only `owner`'s drawings (private ones too), else the public set and `viewer`'s own."""
    if owner is not None:
        return [DRAWINGS.c.owner == check_owner(owner)]
    if viewer is not None:
        return [sa.or_(DRAWINGS.c.shared == sa.true(), DRAWINGS.c.owner == check_owner(viewer))]
    return [DRAWINGS.c.shared == sa.true()]


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

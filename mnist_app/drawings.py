"""The drawing store: what people draw, with its true label, kept to measure and train the models on.

Pen-tablet digits replayed as drawings only stand in for what people draw with a mouse or a finger;
the drawings saved here are the real thing. One row per saved drawing: the 28x28 digit the models
read, the canvas as drawn (PNG), the label the person gave, every model's probabilities and the model
shown at the time, the brush width, when (UTC) and a random session id (no personal data).

SQLAlchemy Core, so that one file works alone (SQLite, the default: nothing to install) and several
app servers can share one PostgreSQL database (`MNIST_APP_DB=postgresql+psycopg://...`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from PIL import Image
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

SCHEMA_VERSION = 2  # bump with a step in MIGRATIONS whenever the tables change
FIELD = 28  # the digit's side, as the models read it
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BUSY_TIMEOUT_MS = 30_000  # SQLite: how long a writer waits for another's lock before giving up
CONNECT_TIMEOUT_S = 10  # PostgreSQL: an unreachable server fails in seconds, not minutes
SCHEMA_LOCK = 0x6D6E6973  # PostgreSQL advisory lock held while a store creates or migrates the tables
MAX_NAME = 128  # longest model name or session id kept

metadata = sa.MetaData()
META = sa.Table(
    "mnist_app_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)
DRAWINGS = sa.Table(
    "drawings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("label", sa.SmallInteger, nullable=False),
    sa.Column("digit", sa.LargeBinary, nullable=False),  # (28, 28) float32 little-endian, as the models read it
    sa.Column("canvas_png", sa.LargeBinary),  # what the person drew
    sa.Column("predictions", sa.JSON),  # {model name: [10 probabilities]} at save time
    sa.Column("model", sa.String(MAX_NAME)),  # the model shown at save time
    sa.Column("brush", sa.SmallInteger),
    sa.Column("session_id", sa.String(MAX_NAME), nullable=False),
    sa.CheckConstraint("label BETWEEN 0 AND 9", name="label_is_a_digit"),
    sa.Index("drawings_label", "label"),
    sa.Index("drawings_session", "session_id"),
    sqlite_autoincrement=True,  # ids are never reused, so (count, last id) identifies the contents
)
# networks trained on the Train page, or models taught a person's handwriting, that were kept (kept_runs.py):
# every server sharing the database offers them
KEPT_RUNS = sa.Table(
    "kept_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("label", sa.String(256), nullable=False),
    sa.Column("job", sa.JSON, nullable=False),  # the run's job.json: what was trained or taught, and how
    sa.Column("report", sa.JSON, nullable=False),  # its report.json
    sa.Column("archive", sa.LargeBinary, nullable=False),  # its model folder as a zip: weights, calibration, reports
    sa.Column("archive_sha256", sa.String(64), nullable=False),
    sa.Column("session_id", sa.String(MAX_NAME), nullable=False),
    sqlite_autoincrement=True,
)
# schema version N -> N + 1, run inside the transaction that records the new version
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: lambda conn: KEPT_RUNS.create(conn),  # the Train page's kept runs (issue 25)
}


class StoreError(RuntimeError):
    """The store cannot be used: unreadable or corrupt file, read-only place, unreachable server.

    The message names the URL with any password hidden and says what to do.
    """


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
    session_id: str


@dataclass(frozen=True)
class DrawnSet:
    """Every stored drawing as arrays, oldest first: for training, measuring and downloads."""

    ids: np.ndarray  # (n,) int64
    images: np.ndarray  # (n, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (n,) int64
    session_ids: np.ndarray  # (n,) str


def default_url() -> str:
    """$MNIST_APP_DB, else an SQLite file in the user's data folder ($XDG_DATA_HOME or ~/.local/share)."""
    if os.environ.get("MNIST_APP_DB"):
        return os.environ["MNIST_APP_DB"]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'mnist-app' / 'drawings.sqlite'}"


def safe_url(url: str | sa.URL) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not even a URL: hide what looks like a password all the same
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))


class DrawingStore:
    """Saved drawings in any SQLAlchemy database; safe to share between threads and processes."""

    def __init__(self, url: str | None = None):
        self.url = safe_url(url or default_url())
        with self._errors("open"):
            self._engine = _engine(url or default_url())
            self._sqlite = self._engine.dialect.name == "sqlite"
            self._session_id = secrets.token_hex(8)
            with self._writing() as conn:
                _ensure_schema(conn, self.url)

    def __repr__(self) -> str:
        return f"DrawingStore({self.url!r})"

    def close(self) -> None:
        """Closes the pooled connections."""
        self._engine.dispose()

    def add(
        self,
        digit: np.ndarray,
        label: int,
        *,
        canvas_png: bytes | None = None,
        predictions: Mapping[str, Sequence[float]] | None = None,
        model: str | None = None,
        brush: int | None = None,
        session_id: str | None = None,
    ) -> int:
        """Stores one drawing and returns its id. Bad input raises ValueError and writes nothing."""
        row = {
            "created_at": datetime.now(UTC),
            "label": check_label(label),
            "digit": check_digit(digit).astype("<f4").tobytes(),
            "canvas_png": check_png(canvas_png),
            "predictions": check_predictions(predictions),
            "model": _check_name(model, "model", optional=True),
            "brush": check_brush(brush),
            "session_id": _check_name(self._session_id if session_id is None else session_id, "session_id"),
        }
        with self._errors("save a drawing in"), self._writing() as conn:
            return int(conn.execute(DRAWINGS.insert().returning(DRAWINGS.c.id), row).scalar_one())

    def count(self, label: int | None = None) -> int:
        """How many drawings are stored (of one label, if given)."""
        query = sa.select(sa.func.count()).select_from(DRAWINGS)
        if label is not None:
            query = query.where(DRAWINGS.c.label == check_label(label))
        with self._errors("count the drawings in"), self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def counts(self, session_id: str | None = None) -> dict[int, int]:
        """Drawings per label (of one visit, if given), every digit 0-9 present (0 where none)."""
        query = sa.select(DRAWINGS.c.label, sa.func.count()).group_by(DRAWINGS.c.label)
        if session_id is not None:
            query = query.where(DRAWINGS.c.session_id == session_id)
        with self._errors("count the drawings in"), self._engine.connect() as conn:
            found = dict(conn.execute(query).all())
        return {d: int(found.get(d, 0)) for d in range(10)}

    def revision(self) -> tuple[int, int]:
        """(count, last id): changes whenever a drawing is added or deleted (ids are never reused)."""
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(DRAWINGS.c.id), 0))
        with self._errors("read"), self._engine.connect() as conn:
            count, last = conn.execute(query.select_from(DRAWINGS)).one()
        return int(count), int(last)

    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """(images (n, 28, 28) float32 in [0, 1], labels (n,) int64), oldest first."""
        drawn = self.dataset()
        return drawn.images, drawn.labels

    def block_revisions(self, size: int) -> dict[int, tuple[int, int]]:
        """{block: (count, last id)} of the ids in [block * size, (block + 1) * size): a block's revision changes
        only when a drawing in it is added or deleted, so work cached per block is redone only there."""
        query = sa.select((DRAWINGS.c.id // size).label("b"), sa.func.count(), sa.func.max(DRAWINGS.c.id))
        with self._errors("read"), self._engine.connect() as conn:
            rows = conn.execute(query.group_by("b").order_by("b")).all()
        return {int(b): (int(count), int(last)) for b, count, last in rows}

    def dataset(
        self, first_id: int | None = None, last_id: int | None = None, session_id: str | None = None
    ) -> DrawnSet:
        """Every drawing's id, image, label and session id as arrays, oldest first (ids in [first, last] and of one
        visit, if given)."""
        columns = (DRAWINGS.c.id, DRAWINGS.c.digit, DRAWINGS.c.label, DRAWINGS.c.session_id)
        query = sa.select(*columns).order_by(DRAWINGS.c.id)
        if session_id is not None:
            query = query.where(DRAWINGS.c.session_id == session_id)
        if first_id is not None:
            query = query.where(DRAWINGS.c.id >= int(first_id))
        if last_id is not None:
            query = query.where(DRAWINGS.c.id <= int(last_id))
        with self._errors("export the drawings from"), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return DrawnSet(
            ids=np.array([r.id for r in rows], dtype=np.int64),
            images=np.stack([_digit(r.digit) for r in rows]) if rows else np.zeros((0, FIELD, FIELD), np.float32),
            labels=np.array([r.label for r in rows], dtype=np.int64),
            session_ids=np.array([r.session_id for r in rows], dtype=str),
        )

    def page(self, offset: int = 0, limit: int = 24, *, label: int | None = None) -> list[Drawing]:
        """One page of the gallery, newest first, optionally only one label."""
        query = sa.select(DRAWINGS).order_by(DRAWINGS.c.id.desc()).offset(max(0, offset)).limit(max(0, limit))
        if label is not None:
            query = query.where(DRAWINGS.c.label == check_label(label))
        with self._errors("list the drawings in"), self._engine.connect() as conn:
            return [_drawing(row) for row in conn.execute(query)]

    def fetch(self, ids: Sequence[int]) -> list[Drawing]:
        """The drawings with these ids, in the order given (missing ids are left out)."""
        wanted = [int(i) for i in ids]
        with self._errors("read the drawings in"), self._engine.connect() as conn:
            rows = {r.id: _drawing(r) for r in conn.execute(sa.select(DRAWINGS).where(DRAWINGS.c.id.in_(wanted)))}
        return [rows[i] for i in wanted if i in rows]

    def delete(self, drawing_id: int) -> bool:
        """Deletes one drawing; False when there was none with that id."""
        with self._errors("delete a drawing from"), self._writing() as conn:
            return conn.execute(DRAWINGS.delete().where(DRAWINGS.c.id == int(drawing_id))).rowcount > 0

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._errors("read"), self._engine.connect() as conn:
            return _recorded_version(conn)

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock at once (BEGIN IMMEDIATE), so concurrent
        writers queue on the busy timeout instead of failing when a read turns into a write."""
        with self._engine.connect().execution_options(mnist_app_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Database and file-system failures become StoreError, naming the URL and what to do."""
        try:
            yield
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(_explain(exc, doing, self.url)) from exc


def check_digit(digit: np.ndarray) -> np.ndarray:
    """A (28, 28) array of finite numbers in [0, 1], as float32; ValueError otherwise."""
    array = np.asarray(digit)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"digit must hold numbers, got dtype {array.dtype}")
    if array.shape != (FIELD, FIELD):
        raise ValueError(f"digit must be ({FIELD}, {FIELD}), got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError("digit holds NaN or infinite values")
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(f"digit values must lie in [0, 1], got {array.min():g}..{array.max():g}")
    return array


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


def check_predictions(predictions: Mapping[str, Sequence[float]] | None) -> dict[str, list[float]] | None:
    """{model name: 10 probabilities in [0, 1]} or None; ValueError otherwise."""
    if predictions is None:
        return None
    if not isinstance(predictions, Mapping):
        raise ValueError(f"predictions must map model names to 10 probabilities, got {type(predictions).__name__}")
    checked = {}
    for name, probs in predictions.items():
        values = np.asarray(probs, dtype=np.float64) if _numeric(probs) else None
        if values is None or values.shape != (10,):
            raise ValueError(f"predictions[{name!r}] must be 10 probabilities")
        if not np.isfinite(values).all() or values.min() < 0.0 or values.max() > 1.0:
            raise ValueError(f"predictions[{name!r}] must be finite probabilities in [0, 1]")
        checked[_check_name(name, "model name")] = [float(v) for v in values]
    return checked


def check_brush(brush: int | None) -> int | None:
    """A brush width in pixels (1-1000) or None; ValueError otherwise."""
    if brush is None:
        return None
    if isinstance(brush, bool | np.bool_) or not isinstance(brush, int | np.integer) or not 1 <= brush <= 1000:
        raise ValueError(f"brush must be a width in pixels (1-1000), got {brush!r}")
    return int(brush)


def _check_name(value: str | None, what: str, optional: bool = False) -> str | None:
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


def _engine(url: str) -> Engine:
    """An engine for the URL; SQLite files get WAL (readers never block the writer), a busy timeout and
    writers that take the lock first; PostgreSQL a connect timeout."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    options: dict = {"hide_parameters": True}  # errors never echo the drawings' bytes
    if sqlite and parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if sqlite and parsed.database in (None, "", ":memory:"):
        options.update(poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False})
    if parsed.get_backend_name() == "postgresql":
        options.update(pool_pre_ping=True)
        if parsed.get_driver_name() == "psycopg" and "connect_timeout" not in parsed.query:
            options.update(connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    engine = sa.create_engine(parsed, **options)
    if sqlite:
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")  # also reads the file: a corrupt one fails here
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("mnist_app_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _ensure_schema(conn: Connection, url: str) -> None:
    """Creates the tables in an empty database, migrates an older schema, refuses a newer or a foreign one."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
    tables = set(sa.inspect(conn).get_table_names())
    if META.name not in tables:
        if DRAWINGS.name in tables:
            raise StoreError(
                f"{url} has a '{DRAWINGS.name}' table but no mnist-app schema version: it is not an "
                "mnist-app store. Point MNIST_APP_DB at another database (or an empty SQLite file)."
            )
        metadata.create_all(conn)
        conn.execute(META.insert(), {"key": "schema_version", "value": str(SCHEMA_VERSION)})
        return
    version = _recorded_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{url} holds drawings in schema version {version}, newer than this mnist-app knows "
            f"({SCHEMA_VERSION}): update mnist-app (git pull && pip install -r requirements.txt)."
        )
    for step in range(version, SCHEMA_VERSION):
        if step not in MIGRATIONS:
            raise StoreError(
                f"{url} holds drawings in schema version {step}, and this mnist-app has no migration from "
                f"it to {SCHEMA_VERSION}: export them with the mnist-app that wrote them, then start a new store."
            )
        MIGRATIONS[step](conn)
        conn.execute(META.update().where(META.c.key == "schema_version").values(value=str(step + 1)))


def _recorded_version(conn: Connection) -> int:
    value = conn.execute(sa.select(META.c.value).where(META.c.key == "schema_version")).scalar_one_or_none()
    if value is None or not value.isdigit():
        raise StoreError(f"the schema version in {META.name} is missing or unreadable ({value!r})")
    return int(value)


def _digit(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4").reshape(FIELD, FIELD).astype(np.float32)


def _drawing(row) -> Drawing:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    predictions = row.predictions if not isinstance(row.predictions, str) else json.loads(row.predictions)
    return Drawing(
        id=row.id,
        created_at=created.astimezone(UTC),
        label=row.label,
        digit=_digit(row.digit),
        canvas_png=row.canvas_png,
        predictions=predictions or {},
        model=row.model,
        brush=row.brush,
        session_id=row.session_id,
    )


def _explain(exc: Exception, doing: str, url: str) -> str:
    """'cannot <doing> the drawing store at <url>: <reason>. <what to do>'"""
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    sqlite = url.startswith("sqlite")
    lowered = reason.lower()
    if sqlite and any(s in lowered for s in ("not a database", "malformed", "corrupt")):
        hint = "The file is damaged or not a database: move it aside (a new store starts empty) or set MNIST_APP_DB."
    elif sqlite and (isinstance(exc, OSError) or any(s in lowered for s in ("readonly", "unable to open"))):
        hint = "mnist-app must be able to write the file and its folder: fix the permissions or set MNIST_APP_DB."
    elif not sqlite and isinstance(exc, sa.exc.OperationalError):
        hint = "Is the database server running and reachable, and are the user, password and database right?"
    else:
        hint = "Set MNIST_APP_DB to another SQLAlchemy URL to use another store."
    end = "" if reason.endswith((".", "?", "!")) else "."
    return f"cannot {doing} the drawing store at {url}: {reason}{end} {hint}"


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


def npz_bytes(drawn: DrawnSet) -> bytes:
    """The drawings as an .npz (images (n, 28, 28) float32, labels (n,) int64, ids, session_ids), no pickle."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, images=drawn.images, labels=drawn.labels, ids=drawn.ids, session_ids=drawn.session_ids.astype("U")
    )
    return buffer.getvalue()


def csv_text(drawn: DrawnSet) -> str:
    """One line per drawing: id, label, session id, then the 784 pixels (0-255, row by row), as MNIST's CSVs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "label", "session_id", *(f"pixel{i}" for i in range(FIELD * FIELD))])
    pixels = np.rint(drawn.images.reshape(len(drawn.ids), -1) * 255).astype(np.uint8)
    for drawing_id, label, session, row in zip(drawn.ids, drawn.labels, drawn.session_ids, pixels, strict=True):
        writer.writerow([int(drawing_id), int(label), session, *row.tolist()])
    return out.getvalue()

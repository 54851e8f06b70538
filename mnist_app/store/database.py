"""Connecting to the store's database: one SQLAlchemy engine per URL, its errors said kindly.

SQLite files (the default: nothing to install) get WAL, so readers never block the writer, commits that do not wait
for the disk, a busy timeout, writers that take the lock first and foreign keys; PostgreSQL
(`MNIST_APP_DB=postgresql+psycopg://...`, shared by several app servers) gets a connect timeout. Every failure
becomes a StoreError with two messages: one for the server log, naming where the store is, and one fit for any
visitor, naming neither the URL nor a server path.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

BUSY_TIMEOUT_MS = 30_000  # SQLite: how long a writer waits for another's lock before giving up
CONNECT_TIMEOUT_S = 10  # PostgreSQL: an unreachable server fails in seconds, not minutes
# PostgreSQL: connections a server keeps open, about one per session saving at once. SQLAlchemy's default keeps 5
# and closes the rest after each burst, so that 16 sessions saving together opened 11 connections each time.
POOL_SIZE = 16


class StoreError(RuntimeError):
    """The store cannot be used: unreadable or corrupt file, read-only place, unreachable server.

    `str(error)` names the URL (any password hidden) and says what to do: for the server log and the command line.
    `error.for_visitors` says what went wrong without the URL or any server path: for the pages.
    """

    def __init__(self, message: str, for_visitors: str | None = None):
        super().__init__(message)
        self.for_visitors = for_visitors or "The drawing store cannot be used right now."


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


def engine(url: str) -> Engine:
    """An engine for the URL, set up as the module docstring says."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    options: dict = {"hide_parameters": True}  # errors never echo the drawings' bytes
    if sqlite and parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if sqlite and parsed.database in (None, "", ":memory:"):
        options.update(poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False})
    if parsed.get_backend_name() == "postgresql":
        options.update(pool_pre_ping=True, pool_size=POOL_SIZE)
        if parsed.get_driver_name() == "psycopg" and "connect_timeout" not in parsed.query:
            options.update(connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    created = sa.create_engine(parsed, **options)
    if sqlite:
        event.listen(created, "connect", _sqlite_connect)
        event.listen(created, "begin", _sqlite_begin)
    return created


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")  # also reads the file: a corrupt one fails here
    # WAL's usual setting: a commit does not wait for the disk; a killed process loses nothing committed, a power cut
    # at most the last commits, and the file is never corrupted
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")  # a deleted drawing takes its readings with it
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("mnist_app_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction; on SQLite it takes the write lock at once (BEGIN IMMEDIATE), so concurrent writers queue on
    the busy timeout instead of failing when a read turns into a write. A server's own threads queue on a lock first:
    each is woken the moment the one before commits, where SQLite's busy handler sleeps in steps of up to 100 ms."""
    with _writers(engine), engine.connect().execution_options(mnist_app_write=True) as conn, conn.begin():
        yield conn


_WRITER_LOCKS: dict[int, threading.RLock] = {}


def _writers(engine: Engine):
    """This process's lock for the engine's writers (SQLite; other databases let writers in together)."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _WRITER_LOCKS.setdefault(id(engine), threading.RLock())


@contextmanager
def errors(doing: str, url: str) -> Iterator[None]:
    """Database and file-system failures become StoreError, naming the URL and what to do."""
    try:
        yield
    except StoreError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(_explain(exc, doing, url), _for_visitors(exc, doing, url)) from exc


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


def _for_visitors(exc: Exception, doing: str, url: str) -> str:
    """What a visitor may read: what failed and whether to wait, never where the store is."""
    lowered = str(getattr(exc, "orig", None) or exc).lower()
    if not url.startswith("sqlite") and isinstance(exc, sa.exc.OperationalError):
        why = "its database server cannot be reached; try again in a minute"
    elif any(s in lowered for s in ("not a database", "malformed", "corrupt")):
        why = "its database file is damaged; the server's log says where it is"
    elif isinstance(exc, sa.exc.OperationalError | OSError):
        why = "the server cannot use its database file; the server's log says why"
    else:
        why = "the server's log says why"
    return f"Cannot {doing} the drawing store: {why}. Reading digits goes on."

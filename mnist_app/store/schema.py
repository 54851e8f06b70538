"""The store's tables, and bringing any database up to them with Alembic's migrations (mnist_app/store/migrations).

One row per saved drawing; one row per model version's reading of a drawing (so that the Drawings page asks the
database instead of re-reading every drawing); the Train page's kept runs; and the leases that let one server at a
time make a new model version's readings.

Stores written before Alembic carry their schema version in `mnist_app_meta` (1 or 2): they are stamped at that
revision, then upgraded like any other. The version is still recorded there, so an older mnist-app refuses a newer
store instead of misreading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mnist_app.store.database import StoreError
from mnist_app.store.visitors import NOBODY

if TYPE_CHECKING:
    from alembic.config import Config

SCHEMA_VERSION = 8  # the revision at head, as mnist_app_meta records it
SCHEMA_LOCK = 0x6D6E6973  # PostgreSQL advisory lock held while a store creates or migrates the tables
MAX_NAME = 128  # longest model name or writer pseudonym kept
OWNER_LENGTH = 64  # an owner key: the sha256 hex of a visitor's secret (visitors.py)
UID_LENGTH = 32  # a drawing's uid: hex, random, kept through export and import (importing twice adds nothing twice)
NUMBER_LENGTH = 16  # the id the digits of one number saved from the Number mode share: hex, random
VERSION_LENGTH = 16  # a model version: the start of the sha256 of its files (models.version)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

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
    sa.Column("uid", sa.String(UID_LENGTH)),  # always set by the store (nullable only so that SQLite adds it in place)
    # who may delete it and teach with it: a hash of their secret, never shown; visitors.NOBODY for old rows
    sa.Column("owner", sa.String(OWNER_LENGTH), nullable=False, server_default=NOBODY),
    sa.Column("writer", sa.String(MAX_NAME), nullable=False, server_default=""),  # public pseudonym: groups a hand
    sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.true()),  # in the public set (gallery, files)
    sa.Column("number", sa.String(NUMBER_LENGTH)),  # a digit of a number (the Number mode): the id its digits share
    sa.Column("place", sa.SmallInteger),  # ... and its place in the number, 1 for the leftmost
    sa.CheckConstraint("label BETWEEN 0 AND 9", name="label_is_a_digit"),
    sa.Index("drawings_label", "label"),
    sa.Index("drawings_owner", "owner"),
    sa.Index("drawings_visible", "label", "shared", "owner"),
    sa.Index("drawings_uid", "uid", unique=True),
    sqlite_autoincrement=True,  # ids are never reused, so (count, last id) identifies the contents
)
# each model version's reading of each drawing; the label is copied in so that accuracy, the confusion matrix and the
# misread filter read this table's index alone
READINGS = sa.Table(
    "readings",
    metadata,
    sa.Column("model", sa.String(MAX_NAME), primary_key=True),
    sa.Column("version", sa.String(VERSION_LENGTH), primary_key=True),
    sa.Column("drawing_id", sa.Integer, sa.ForeignKey("drawings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("label", sa.SmallInteger, nullable=False),
    sa.Column("predicted", sa.SmallInteger, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Index("readings_confusion", "model", "version", "label", "predicted"),
    sa.Index("readings_drawing", "drawing_id"),
)
# how many drawings each model version read as each digit, per true digit: the readings' confusion matrices, kept
# by every write of readings (tallies.tally), so that accuracy and the matrix are 100 x COUNT_SHARDS rows at most to
# read however many drawings are stored (counting a million readings took 0.1 s per model on SQLite). Each write
# adds to one of COUNT_SHARDS rows per cell, at random, so that two PostgreSQL saves of the same digit rarely wait for
# each other's commit on the same row
COUNT_SHARDS = 128
READING_COUNTS = sa.Table(
    "reading_counts",
    metadata,
    sa.Column("model", sa.String(MAX_NAME), primary_key=True),
    sa.Column("version", sa.String(VERSION_LENGTH), primary_key=True),
    sa.Column("label", sa.SmallInteger, primary_key=True),
    sa.Column("predicted", sa.SmallInteger, primary_key=True),
    sa.Column("shard", sa.SmallInteger, primary_key=True),
    sa.Column("drawings", sa.Integer, nullable=False),
)
# who is making which model version's readings, until when (SQLite; PostgreSQL uses an advisory lock instead)
LEASES = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(2 * MAX_NAME), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # seconds since the epoch
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
    sa.Column("owner", sa.String(OWNER_LENGTH), nullable=False, server_default=NOBODY),  # who may delete it
    sqlite_autoincrement=True,
)

# the Train page's runs and teachings: each a task of the training engine (training/jobs.py), recorded here so that
# a reload, a restart and every app server find it; its worker writes its progress, end and model here
TRAINING_RUNS = sa.Table(
    "training_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(OWNER_LENGTH), nullable=False),  # the visitor's owner key: their runs
    sa.Column("number", sa.Integer, nullable=False),  # the owner's run (or teaching) number, for its label
    sa.Column("task", sa.String(16), nullable=False),  # "train" or "teach"
    sa.Column("record", sa.JSON, nullable=False),  # what to train: network, knobs, data, seed (or model taught)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),  # queued, running, finished, stopped, failed
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("stop", sa.Boolean, nullable=False, server_default=sa.false()),  # asked to stop (cooperative)
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),  # the engine's tries (a worker died)
    sa.Column("progress", sa.JSON),  # what the worker has done so far
    sa.Column("archive", sa.LargeBinary),  # its model folder as a zip, once it has one
    sa.Column("checkpoint", sa.LargeBinary),  # its last finished epoch's training state as a zip, while it trains
    sa.Index("training_runs_owner", "owner"),
    sa.Index("training_runs_status", "status"),
    sqlite_autoincrement=True,
)


def revision(version: int) -> str:
    """The Alembic revision of a schema version: 1 -> '0001'."""
    return f"{version:04d}"


def ensure_schema(conn: Connection, url: str) -> None:
    """Creates the tables in an empty database, migrates an older schema, refuses a newer or a foreign one.

    Runs inside the caller's write transaction (on PostgreSQL, under an advisory lock), so two servers starting at
    once migrate once, and a failed step leaves the store as it was."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
    tables = set(sa.inspect(conn).get_table_names())
    if "alembic_version" in tables and _current(conn) == revision(SCHEMA_VERSION):
        return  # the usual case, without importing Alembic (a third of a second on a fresh server's first page)
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    config = _config(conn)
    if "alembic_version" not in tables and META.name in tables:
        command.stamp(config, revision(_legacy_version(conn, url)))  # a store from before Alembic
    elif "alembic_version" not in tables and DRAWINGS.name in tables:
        raise StoreError(
            f"{url} has a '{DRAWINGS.name}' table but no mnist-app schema version: it is not an "
            "mnist-app store. Point MNIST_APP_DB at another database (or an empty SQLite file).",
            "The drawing store's database holds tables that are not mnist-app's: the server's log says which.",
        )
    current = MigrationContext.configure(conn).get_current_revision()
    if current is not None and _unknown(config, current):
        raise StoreError(
            f"{url} holds drawings in schema revision {current}, newer than this mnist-app knows "
            f"({revision(SCHEMA_VERSION)}): update mnist-app (git pull && pip install -r requirements.txt).",
            "The drawing store was written by a newer mnist-app: this server needs updating.",
        )
    command.upgrade(config, "head")


def recorded_version(conn: Connection) -> int:
    """The schema version recorded in the database."""
    value = _current(conn)
    if value is None or not value.isdigit():
        raise StoreError(f"the store's schema revision is missing or unreadable ({value!r})")
    return int(value)


def _current(conn: Connection) -> str | None:
    """The revision alembic_version records, read as Alembic reads it."""
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def _config(conn: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def _unknown(config: Config, current: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(config).get_revision(current) is None
    except CommandError:
        return True


def _legacy_version(conn: Connection, url: str) -> int:
    value = conn.execute(sa.select(META.c.value).where(META.c.key == "schema_version")).scalar_one_or_none()
    if value is None or not value.isdigit():
        raise StoreError(f"the schema version in {url}'s {META.name} is missing or unreadable ({value!r})")
    if int(value) > SCHEMA_VERSION:
        raise StoreError(
            f"{url} holds drawings in schema version {value}, newer than this mnist-app knows "
            f"({SCHEMA_VERSION}): update mnist-app (git pull && pip install -r requirements.txt).",
            "The drawing store was written by a newer mnist-app: this server needs updating.",
        )
    return int(value)


INSERT_BATCH = 2_000  # rows per INSERT statement in add_many: big enough to be fast, small enough for any driver

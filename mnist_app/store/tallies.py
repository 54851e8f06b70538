"""Models' readings of saved drawings, written beside them: one row per reading, and the running tallies of
(label, predicted) per model version that the Drawings page's counts read (reading_counts, sharded so that savers
do not queue on one row)."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mnist_app.store.checks import check_label
from mnist_app.store.schema import COUNT_SHARDS, INSERT_BATCH, READINGS

TALLY = sa.text(
    "INSERT INTO reading_counts (model, version, label, predicted, shard, drawings) "
    "VALUES (:model, :version, :label, :predicted, :shard, :drawings) "
    "ON CONFLICT (model, version, label, predicted, shard) DO UPDATE "
    "SET drawings = reading_counts.drawings + excluded.drawings"
)


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


def misread(misread_by: tuple[str, str], label: int | None, table: sa.Table = READINGS) -> list:
    model, version = misread_by
    where = [table.c.model == model, table.c.version == version, table.c.predicted != table.c.label]
    return where if label is None else [*where, table.c.label == check_label(label)]

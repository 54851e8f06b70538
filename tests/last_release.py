"""The store's tables as the last releases wrote them (schema versions 1 and 2, before Alembic), copied from
mnist_app/drawings.py at commit cf67336: the migration tests build an old store with them and open it with today's."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

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
    sa.Column("digit", sa.LargeBinary, nullable=False),
    sa.Column("canvas_png", sa.LargeBinary),
    sa.Column("predictions", sa.JSON),
    sa.Column("model", sa.String(128)),
    sa.Column("brush", sa.SmallInteger),
    sa.Column("session_id", sa.String(128), nullable=False),
    sa.CheckConstraint("label BETWEEN 0 AND 9", name="label_is_a_digit"),
    sa.Index("drawings_label", "label"),
    sa.Index("drawings_session", "session_id"),
    sqlite_autoincrement=True,
)
KEPT_RUNS = sa.Table(
    "kept_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("label", sa.String(256), nullable=False),
    sa.Column("job", sa.JSON, nullable=False),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Column("archive", sa.LargeBinary, nullable=False),
    sa.Column("archive_sha256", sa.String(64), nullable=False),
    sa.Column("session_id", sa.String(128), nullable=False),
    sqlite_autoincrement=True,
)


def write_store(url: str, version: int, images: np.ndarray, labels: np.ndarray) -> None:
    """An old store at `url`: its tables, its schema version and the drawings, as that release saved them."""
    rows = [
        {"created_at": datetime.now(UTC), "label": int(label), "digit": image.astype("<f4").tobytes()}
        | {"session_id": f"s{i % 3}", "predictions": {"numpy-mlp": [0.1] * 10}, "model": "numpy-mlp", "brush": 20}
        for i, (image, label) in enumerate(zip(images, labels, strict=True))
    ]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [META, DRAWINGS] if version == 1 else [META, DRAWINGS, KEPT_RUNS]
        metadata.create_all(conn, tables=tables)
        conn.execute(META.insert(), {"key": "schema_version", "value": str(version)})
        if rows:
            conn.execute(DRAWINGS.insert(), rows)
    engine.dispose()

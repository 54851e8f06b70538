"""The first store: saved drawings, and the schema version in mnist_app_meta.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "mnist_app_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "drawings",
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
        sqlite_autoincrement=True,
    )
    op.create_index("drawings_label", "drawings", ["label"])
    op.create_index("drawings_session", "drawings", ["session_id"])
    op.bulk_insert(
        sa.table("mnist_app_meta", sa.column("key"), sa.column("value")), [{"key": "schema_version", "value": "1"}]
    )

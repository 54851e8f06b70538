"""Saved drawings at scale (issue 27): every model version's reading of every drawing, a uid per drawing (importing
a file twice adds nothing twice) and the leases of the servers making readings.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

RANDOM_UID = {  # 32 random hex digits, for the drawings saved before uids
    "sqlite": "lower(hex(randomblob(16)))",
    "postgresql": "md5(random()::text || clock_timestamp()::text || id::text)",
}


def upgrade() -> None:
    # nullable, so that SQLite adds it in place instead of rebuilding the table; the store always sets it
    op.add_column("drawings", sa.Column("uid", sa.String(32)))
    op.execute(f"UPDATE drawings SET uid = {RANDOM_UID[op.get_bind().dialect.name]}")
    op.create_index("drawings_uid", "drawings", ["uid"], unique=True)
    if op.get_bind().dialect.name == "sqlite":  # a deep gallery page walks ids here, not the table's big rows
        op.create_index("drawings_newest", "drawings", ["id"])
    op.create_table(
        "readings",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.String(16), primary_key=True),
        sa.Column("drawing_id", sa.Integer, sa.ForeignKey("drawings.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("label", sa.SmallInteger, nullable=False),
        sa.Column("predicted", sa.SmallInteger, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
    )
    op.create_index("readings_confusion", "readings", ["model", "version", "label", "predicted"])
    op.create_index("readings_drawing", "readings", ["drawing_id"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.execute("UPDATE mnist_app_meta SET value = '3' WHERE key = 'schema_version'")

"""The readings' confusion matrices, kept as counts (tallies.tally): the Drawings page's accuracy table and matrix
read at most 100 cells x 128 shards per model instead of counting every reading. The counts of the readings already
stored go into shard 0.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "reading_counts",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.String(16), primary_key=True),
        sa.Column("label", sa.SmallInteger, primary_key=True),
        sa.Column("predicted", sa.SmallInteger, primary_key=True),
        sa.Column("shard", sa.SmallInteger, primary_key=True),
        sa.Column("drawings", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO reading_counts (model, version, label, predicted, shard, drawings) "
        "SELECT model, version, label, predicted, 0, count(*) FROM readings GROUP BY model, version, label, predicted"
    )
    op.execute("UPDATE mnist_app_meta SET value = '4' WHERE key = 'schema_version'")

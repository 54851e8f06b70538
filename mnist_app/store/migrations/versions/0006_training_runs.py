"""The Train page's runs are records in the store (issue 37): tasks of the training engine, found by a reload, a
restart and every app server.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("stop", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress", sa.JSON),
        sa.Column("archive", sa.LargeBinary),
        sqlite_autoincrement=True,
    )
    op.create_index("training_runs_owner", "training_runs", ["owner"])
    op.create_index("training_runs_status", "training_runs", ["status"])
    op.execute("UPDATE mnist_app_meta SET value = '6' WHERE key = 'schema_version'")

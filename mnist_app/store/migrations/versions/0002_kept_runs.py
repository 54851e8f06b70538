"""The Train page's kept runs (issue 25).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "kept_runs",
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
    op.execute("UPDATE mnist_app_meta SET value = '2' WHERE key = 'schema_version'")

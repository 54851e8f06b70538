"""A run keeps its last finished epoch's training state, so that a run whose worker died goes on from there on
another worker instead of starting again (issue 37).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.add_column("training_runs", sa.Column("checkpoint", sa.LargeBinary))
    op.execute("UPDATE mnist_app_meta SET value = '7' WHERE key = 'schema_version'")

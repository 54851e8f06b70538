"""A digit saved from the Number mode keeps the number it was written in and its place there (issue 38), so that the
digits of one number can be found together and in order.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.add_column("drawings", sa.Column("number", sa.String(16)))
    op.add_column("drawings", sa.Column("place", sa.SmallInteger))
    op.execute("UPDATE mnist_app_meta SET value = '8' WHERE key = 'schema_version'")

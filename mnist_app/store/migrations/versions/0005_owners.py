"""A person's drawings and runs are theirs (issue 35): the public visit id that granted rights gives way to an owner
key (a hash of a secret only its holder sees), a public writer pseudonym, and a shared flag.

The old visit ids were in every public download, so no old row may be claimed by typing one: old rows get the owner
nobody holds (the admin token can still delete them), and a writer pseudonym hashed one-way from their old id.
Old drawings were public, so they stay shared.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from mnist_app.store.visitors import NOBODY, old_writer

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # NOT NULL with a default, so that SQLite adds each column in place instead of rebuilding the table
    op.add_column("drawings", sa.Column("owner", sa.String(64), nullable=False, server_default=NOBODY))
    op.add_column("drawings", sa.Column("writer", sa.String(128), nullable=False, server_default=""))
    op.add_column("drawings", sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.true()))
    conn = op.get_bind()
    old = [row[0] for row in conn.execute(sa.text("SELECT DISTINCT session_id FROM drawings"))]
    update = sa.text("UPDATE drawings SET writer = :writer WHERE session_id = :old")
    for start in range(0, len(old), 1000):
        conn.execute(update, [{"writer": old_writer(s), "old": s} for s in old[start : start + 1000]])
    op.drop_index("drawings_session", "drawings")
    op.execute("ALTER TABLE drawings DROP COLUMN session_id")
    op.create_index("drawings_owner", "drawings", ["owner"])
    # what the public counts read (per digit, shared or the viewer's own): an index, not the table's big rows
    op.create_index("drawings_visible", "drawings", ["label", "shared", "owner"])
    op.add_column("kept_runs", sa.Column("owner", sa.String(64), nullable=False, server_default=NOBODY))
    op.execute("ALTER TABLE kept_runs DROP COLUMN session_id")
    op.execute("UPDATE mnist_app_meta SET value = '5' WHERE key = 'schema_version'")

"""project_overlays without the foreign key to project_versions and without the index on
reference_key: the table is derived data, written in bulk by the first read after a commit
(PostgreSQL, 10⁵ rows: the key's check took 0.42 s and the two indexes' upkeep most of the
rest of ~1 s, against ~0.25 s without them). A version is never deleted, and a kept row is
only read by a join from its version, so the key guarded nothing; rows under another digest
are found by a scan (the table holds one row per version). The table is made again, empty:
the next read computes the overlays again and keeps them.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _columns() -> list:
    return [
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reference_key", sa.String(length=64), nullable=False),
        sa.Column("located_district_id", sa.Text(), nullable=True),
        sa.Column("spatial_park_id", sa.Text(), nullable=True),
        sa.Column("control_level", sa.String(length=8), nullable=True),
        sa.Column("cluster_codes", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.drop_index("ix_project_overlays_key", table_name="project_overlays")
    op.drop_table("project_overlays")
    op.create_table("project_overlays", *_columns(), sa.PrimaryKeyConstraint("version_id"))


def downgrade() -> None:
    op.drop_table("project_overlays")
    op.create_table(
        "project_overlays",
        *_columns(),
        sa.ForeignKeyConstraint(["version_id"], ["project_versions.version_id"]),
        sa.PrimaryKeyConstraint("version_id"),
    )
    op.create_index("ix_project_overlays_key", "project_overlays", ["reference_key"])

"""project_overlays: each version's district, park, control line and clusters, kept per digest
of the reference data they were computed against (derived; refilled when that data changes)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_overlays",
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reference_key", sa.String(length=64), nullable=False),
        sa.Column("located_district_id", sa.Text(), nullable=True),
        sa.Column("spatial_park_id", sa.Text(), nullable=True),
        sa.Column("control_level", sa.String(length=8), nullable=True),
        sa.Column("cluster_codes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["project_versions.version_id"]),
        sa.PrimaryKeyConstraint("version_id"),
    )
    op.create_index("ix_project_overlays_key", "project_overlays", ["reference_key"])


def downgrade() -> None:
    op.drop_index("ix_project_overlays_key", table_name="project_overlays")
    op.drop_table("project_overlays")

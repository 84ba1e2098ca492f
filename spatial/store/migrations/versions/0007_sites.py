"""site_versions (地块): parcels loaded by districts and admins, versioned like the projects

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import spatial.store.database

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_versions",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("change_kind", sa.String(length=16), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("district_id", sa.Text(), nullable=True),
        sa.Column("land_use", sa.Text(), nullable=True),
        sa.Column("land_area_m2", sa.Float(), nullable=True),
        sa.Column("existing_floor_area_m2", sa.Float(), nullable=True),
        sa.Column("plot_ratio", sa.Float(), nullable=True),
        sa.Column("readiness", sa.Text(), nullable=True),
        sa.Column("owner_type", sa.Text(), nullable=True),
        sa.Column("quality", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "geometry",
            sa.LargeBinary().with_variant(spatial.store.database.PostGISGeometry(), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.submission_id"]),
        sa.PrimaryKeyConstraint("version_id"),
    )
    op.create_index("ix_site_versions_current", "site_versions", ["site_id", "valid_to"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_site_versions_geometry ON site_versions USING GIST (geometry)")


def downgrade() -> None:
    op.drop_index("ix_site_versions_current", table_name="site_versions")
    op.drop_table("site_versions")

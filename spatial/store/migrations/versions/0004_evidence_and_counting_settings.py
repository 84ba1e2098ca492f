"""stage evidence and per-aspect quality of projects; counting settings; district allocations

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_PROJECT_COLUMNS = (
    "start_evidence",
    "completion_evidence",
    "delivery_evidence",
    "figures_quality",
    "dates_quality",
)


def upgrade() -> None:
    # a store adopted from before migrations may already have them (made from newer metadata)
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("project_versions")}
    missing = [name for name in NEW_PROJECT_COLUMNS if name not in present]
    if missing:
        with op.batch_alter_table("project_versions") as batch:
            for name in missing:
                batch.add_column(sa.Column(name, sa.String(length=16), nullable=True))
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "district_allocations",
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("target_m2", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("district_id", "year"),
    )


def downgrade() -> None:
    op.drop_table("district_allocations")
    op.drop_table("settings")
    with op.batch_alter_table("project_versions") as batch:
        for name in reversed(NEW_PROJECT_COLUMNS):
            batch.drop_column(name)

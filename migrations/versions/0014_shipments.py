"""shipments: where from, the parcels, the tracking page, who shipped; one shipment per carrier tracking number

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 01:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shipment") as batch_op:
        batch_op.add_column(sa.Column("location_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("parcels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tracking_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("actor", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("device", sa.String(length=128), nullable=True))
        batch_op.create_foreign_key(op.f("fk_shipment_location_id_location"), "location", ["location_id"], ["id"])
        batch_op.create_unique_constraint(op.f("uq_shipment_carrier_tracking"), ["carrier", "tracking"])


def downgrade():
    with op.batch_alter_table("shipment") as batch_op:
        batch_op.drop_constraint(op.f("uq_shipment_carrier_tracking"), type_="unique")
        batch_op.drop_constraint(op.f("fk_shipment_location_id_location"), type_="foreignkey")
        batch_op.drop_column("device")
        batch_op.drop_column("actor")
        batch_op.drop_column("tracking_url")
        batch_op.drop_column("parcels")
        batch_op.drop_column("location_id")

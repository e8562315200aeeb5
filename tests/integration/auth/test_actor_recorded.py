"""Services that take an ``actor`` record it: who created, (de)activated or re-passworded a user, who revoked a
token, who last changed a location, a bin or a product; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_bin, make_location, make_product
from wms.auth.models import User
from wms.auth.service import create_user, set_password, set_user_active
from wms.catalog.models import Product
from wms.catalog.service import import_products, upsert_product
from wms.channels.models import ApiToken
from wms.channels.service import create_token, revoke_token
from wms.extensions import db
from wms.locations.models import Bin, Location
from wms.locations.service import upsert_location
from wms.stock.bins import upsert_bin


def updated_by(model, *where) -> str | None:
    value = db.session.execute(select(model.updated_by).where(*where)).scalar_one()
    db.session.rollback()
    return value


def test_user_changes_record_their_actor(any_app):
    make_location("WH1", "warehouse")
    create_user("piotr", "picker", "WH1", "sekret-123", actor="boss")
    assert updated_by(User, User.username == "piotr") == "boss"
    set_user_active("piotr", False, actor="cli")
    assert updated_by(User, User.username == "piotr") == "cli"
    set_user_active("piotr", True, actor="root")
    assert updated_by(User, User.username == "piotr") == "root"
    set_password("piotr", "inny-sekret-456", actor="piotr")
    assert updated_by(User, User.username == "piotr") == "piotr"


def test_revoking_a_token_records_who_did_it_once(any_app):
    create_token("integration", "ERP")
    token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    db.session.rollback()
    revoke_token(token_id, actor="cli")
    revoke_token(token_id, actor="someone else")  # already revoked: nothing changes, the first actor stays
    assert db.session.execute(select(ApiToken.revoked_by)).scalar_one() == "cli"
    db.session.rollback()


def test_location_bin_and_product_record_who_changed_them_last(any_app):
    make_location("WH1", "warehouse")
    make_bin("WH1", "A-01")
    make_product("A")
    assert updated_by(Location, Location.code == "WH1") is None
    upsert_location("WH1", {"priority": 5}, actor="integration:3")
    upsert_bin("WH1", "A-01", {"sequence": 9}, actor="integration:3")
    upsert_product("A", {"name": "Alfa"}, actor="integration:3")
    assert updated_by(Location, Location.code == "WH1") == "integration:3"
    assert updated_by(Bin, Bin.code == "A-01") == "integration:3"
    assert updated_by(Product, Product.sku == "A") == "integration:3"
    import_products([{"sku": "A", "name": "Alfa 2"}, {"sku": "B", "name": "Beta"}], actor="cli")
    assert updated_by(Product, Product.sku == "A") == "cli"
    assert updated_by(Product, Product.sku == "B") == "cli"

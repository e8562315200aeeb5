"""``wms demo``: migrates from nothing, seeds through the services, is safe to run twice, leaves the ledger clean."""

import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from tests.factories import Api, fast_password_hashing, make_product
from wms import create_app
from wms.auth.service import authenticate_user
from wms.channels.service import authenticate, create_token
from wms.cli import main
from wms.extensions import db
from wms.orders.models import Order
from wms.orders.service import get_order, order_view
from wms.printing.models import PrintJob
from wms.stock.service import check_stock
from wms.tasks.models import Task

#: grows on every run by design: each run prints new tokens
TOKEN_TABLE = "api_token"


def counts() -> dict[str, int]:
    db.session.rollback()
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
        if table.name != TOKEN_TABLE
    }


def tokens(output: str) -> tuple[str, str]:
    channel = re.search(r"WEB channel:\s+(wmsc_\S+)", output).group(1)
    integration = re.search(r"integration:\s+(wmsi_\S+)", output).group(1)
    return channel, integration


@pytest.fixture(scope="module")
def cheap_hashes():
    # Real hashes, but cheap ones: the default scrypt costs ~0.1 s per user.
    with pytest.MonkeyPatch.context() as patch:
        fast_password_hashing(patch)
        yield


@contextmanager
def sqlite_app(path: Path):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x", "TESTING": True, "WTF_CSRF_ENABLED": False}
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, cheap_hashes) -> tuple[Path, str]:
    """The demo run once on a new SQLite file with no schema at all (it must migrate it itself): the file and
    what the run printed. Tests work on copies of the file."""
    path = tmp_path_factory.mktemp("demo") / "seeded.sqlite"
    with sqlite_app(path) as app:
        output = run_demo(app)
    return path, output


@pytest.fixture
def demo_app(seeded, tmp_path, cheap_hashes):
    path, _output = seeded
    copy = tmp_path / "demo.sqlite"
    shutil.copyfile(path, copy)
    with sqlite_app(copy) as app:
        yield app


def run_demo(app, *args, input=None):
    result = app.test_cli_runner().invoke(main, ["demo", *args], input=input)
    db.session.rollback()
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_twice_creates_nothing_twice_and_the_ledger_agrees(seeded, demo_app):
    first = seeded[1]
    before = counts()
    assert before["location"] == 4 and before["product"] >= 190 and before["user"] == 7
    # 17 customers' orders and the order a replenishment transfer is picked under
    assert before["order"] == 18 + 49 and before["stock_movement"] > 100  # 49: three weeks of history
    assert check_stock() == []

    second = run_demo(demo_app)
    assert counts() == before
    assert check_stock() == []
    assert demo_app.test_cli_runner().invoke(main, ["check"]).exit_code == 0

    # Every run prints working tokens, new ones each time; the first run's keep working.
    assert tokens(first) != tokens(second)
    for channel, integration in (tokens(first), tokens(second)):
        assert authenticate(channel).channel_code == "WEB"
        assert authenticate(integration).scope == "integration"

    for text in ("wms serve", "http://127.0.0.1:8000", "curl ", "clerk.krk", "demo-clerk", "Returns and transfers"):
        assert text in second


def test_demo_data_is_usable(seeded, demo_app):
    channel, integration = tokens(seeded[1])
    client = demo_app.test_client()

    # The printed logins work; a clerk sees only their store.
    assert authenticate_user("admin", "demo-admin").role == "admin"
    assert authenticate_user("picker", "demo-picker").location.code == "WH1"
    client.post("/login", data={"username": "clerk.gda", "password": "demo-clerk"})
    home = client.get("/").get_data(as_text=True)
    assert "ST-GDA" in home and "ST-KRK" not in home and "WH1" not in home

    # Orders of every kind.
    orders = {o.external_id: order_view(get_order(o.id)) for o in db.session.execute(select(Order)).scalars()}
    statuses = {o["status"] for o in orders.values()}
    # the older half of the warehouse's orders is picking; one pickup order waits on its shelf in Kraków, one is on
    # its way there, others were collected, partly collected or never collected; one order was shipped
    assert statuses == {
        "reserved",
        "picking",
        "cancelled",
        "ready_for_pickup",
        "in_transit",
        "collected",
        "partially_collected",
        "expired",
        "shipped",
    }
    ready = orders["WEB-100234"]
    assert ready["status"] == "ready_for_pickup" and ready["pickup"]["store"] == "ST-KRK"
    assert ready["pickup"]["shelf"].startswith("PU-")
    split = orders["WEB-100233"]["lines"][0]["allocations"]
    assert [a["location"] for a in split] == ["WH1", "ST-WAW"]
    transfer = orders["WEB-100235"]["lines"]
    assert any(a.get("needs_transfer") for line in transfer for a in line["allocations"])
    assert orders["WEB-100234"]["fulfilment"] == "pickup" and orders["WEB-100234"]["pickup_code"]

    # The printed tokens reach the API: the channel its orders, the integration the stock.
    api = Api(client, channel)
    assert api.get(f"/api/v1/orders/{orders['WEB-100231']['id']}").status_code == 200
    assert api.get(f"/api/v1/orders/{orders['APP-55012']['id']}").status_code == 403  # another channel's
    stock = Api(client, integration).get("/api/v1/stock?location=ST-KRK")
    assert stock.status_code == 200 and len(stock.json["items"]) > 40


def test_demo_reset_starts_from_nothing(demo_app):
    before = counts()
    make_product("NOT-IN-THE-DEMO")
    # Without --yes it asks; "no" changes nothing.
    refused = demo_app.test_cli_runner().invoke(main, ["demo", "--reset"], input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert counts()["product"] == before["product"] + 1

    run_demo(demo_app, "--reset", input="y\n")
    assert counts() == before
    assert check_stock() == []


def test_demo_on_postgres(pg_app, cheap_hashes):
    output = run_demo(pg_app, "--reset", "--yes")
    assert "dropped every WMS table" in output
    seeded = counts()
    assert seeded["order"] == 18 + 49
    assert check_stock() == []
    run_demo(pg_app)
    assert counts() == seeded
    assert "alembic_version" in inspect(db.engine).get_table_names()


def test_demo_floor_work_is_there_to_pick_up(seeded, demo_app):
    """A released wave, a put-away in progress and a count waiting for a manager; the printed handheld URL."""
    tasks = {}
    for task in db.session.execute(select(Task).order_by(Task.id)).scalars():
        tasks.setdefault(task.kind, []).append(task)
    # the dock delivery half put away; the expired pickup's shelf to clear
    putaway, clear_shelf = tasks["putaway"]
    assert putaway.status == "in_progress" and putaway.assignee_id is not None
    assert 0 < sum(line.done for line in putaway.lines) < sum(line.qty for line in putaway.lines)
    assert clear_shelf.status == "open" and clear_shelf.reference.get("order")
    open_picks = [t for t in tasks["pick"] if t.status == "open"]
    assert open_picks and {t.status for t in tasks["pick"]} == {"open", "done"}
    assert all(t.reference["wave"] for t in tasks["pick"])
    (count,) = tasks["count"]
    assert count.status == "awaiting_approval"
    # the stores' pickups on their own stock have stage tasks; Kraków's is done, its label on the counter printer
    stages = tasks["stage"]
    assert {t.status for t in stages} == {"open", "done"}
    jobs = db.session.execute(select(PrintJob).where(PrintJob.kind == "pickup")).scalars().all()
    assert [job.printer.name for job in jobs] == ["KRK-counter-zebra"]
    # the picker's handheld can see the wave's tasks and work them (here: the tote scan of the first pick task)
    client = demo_app.test_client()
    picker = {"Authorization": "Bearer " + create_token("staff", username="picker")}
    listed = client.get("/api/v1/tasks?kind=pick", headers=picker).json["tasks"]
    assert [t["id"] for t in listed if t["status"] == "open"] == [t.id for t in open_picks]
    listed = [t for t in listed if t["status"] == "open"]
    first = listed[0]
    assert first["next"]["expect"] == "tote"
    r = client.post(f"/api/v1/tasks/{first['id']}/scans", json={"id": "demo-1", "code": "T-0001"}, headers=picker)
    assert r.status_code == 200 and r.json["task"]["next"]["expect"] == "bin"
    assert "http://127.0.0.1:8000/hh" in seeded[1] and "picker / demo-picker" in seeded[1]
    assert check_stock() == []


def test_demo_store_work_in_every_state(seeded, demo_app):
    """A transfer in transit to Kraków with its receiving open, a replenishment requested, returns in every state,
    pickups collected, partly collected and expired."""
    from wms.returns.models import Return
    from wms.transfers.models import Transfer
    from wms.transfers.service import transfer_view

    transfers = [transfer_view(t) for t in db.session.execute(select(Transfer).order_by(Transfer.id)).scalars()]
    by_status = {t["status"]: t for t in transfers}
    assert by_status["in_transit"]["to"] == "ST-KRK" and by_status["in_transit"]["order_id"]
    assert by_status["requested"]["to"] == "ST-GDA" and by_status["requested"]["order_id"] is None
    receiving = db.session.execute(select(Task).where(Task.kind == "transfer_receive")).scalars().all()
    assert [(t.status, t.reference["transfer"]) for t in receiving] == [("open", by_status["in_transit"]["id"])]
    not_history = select(Return).join(Order, Order.id == Return.order_id).where(~Order.external_id.startswith("HIST-"))
    assert sorted(r.status for r in db.session.execute(not_history).scalars()) == [
        "closed",
        "inspected",
        "received",
        "requested",
    ]
    statuses = dict(db.session.execute(select(Order.external_id, Order.status)).all())
    assert statuses["WEB-100237"] == "collected" and statuses["WEB-100238"] == "partially_collected"
    assert statuses["APP-55016"] == "expired" and statuses["APP-55013"] == "in_transit"
    # the Kraków clerk sees the transfer to receive on the handheld
    client = demo_app.test_client()
    clerk = {"Authorization": "Bearer " + create_token("staff", username="clerk.krk")}
    listed = client.get("/api/v1/tasks?kind=transfer_receive", headers=clerk).json["tasks"]
    assert [t["next"]["expect"] for t in listed] == ["order"]


def test_demo_has_weeks_of_history_for_the_charts(seeded, demo_app):
    """Three weeks of orders shipped, pickups collected and returns, each row dated in its day."""
    from datetime import timedelta

    from wms.dashboard import charts
    from wms.orders.models import OrderEvent
    from wms.stock.models import StockMovement
    from wms.timeutil import utcnow

    history = db.session.execute(select(Order).where(Order.external_id.startswith("HIST-"))).scalars().all()
    assert len(history) == 49 and {o.status for o in history} == {"shipped", "collected"}
    oldest = db.session.execute(
        select(func.min(StockMovement.created_at)).where(StockMovement.reason == "ship")
    ).scalar()
    assert oldest.replace(tzinfo=None) < (utcnow() - timedelta(days=20)).replace(tzinfo=None)
    shipped_days = {
        e.at.date() for e in db.session.execute(select(OrderEvent).where(OrderEvent.status == "shipped")).scalars()
    }
    assert len(shipped_days) >= 21
    with demo_app.test_request_context():
        picks = charts.picks_per_hour()
        assert sum(sum(d["data"]) for d in picks["datasets"]) > 0  # the last two days' picks show
        sku = history[0].lines[0].product.sku
        stock = charts.product_history(sku)
        assert len({v for d in stock["datasets"] for v in d["data"]}) > 1  # it moved over the weeks
        from wms.dashboard import flow
        from wms.tables import table

        tables = {spec.name: table(spec, {}) for spec in flow.specs()}
        assert tables["pickers"].rows and tables["zones"].rows  # the last day's picks, per picker and zone
        assert tables["waves"].rows and tables["orders"].rows and tables["pickups"].rows
    assert check_stock() == []


def test_demo_leaves_the_summaries_filled_and_shows_slow_movers(seeded, demo_app):
    """The opening stock is older than the health page's 30 days, and the summary of last movements is rebuilt
    after the history re-dated the ledger: what is slow at WH1 is what the ledger says, with nothing left unread."""
    from datetime import timedelta

    from wms.dashboard.health import _slow
    from wms.locations.models import Location
    from wms.summaries.last_movement import catch_up
    from wms.summaries.stock_totals import kept_totals
    from wms.timeutil import utcnow

    wh1 = db.session.execute(select(Location.id).where(Location.code == "WH1")).scalar_one()
    slow = {row.sku for row in db.session.execute(_slow(wh1, utcnow() - timedelta(days=30)))}
    assert catch_up() == 0  # nothing left for the worker: the rebuild read it all
    moved = db.session.execute(
        select(Order).where(Order.external_id.startswith("HIST-"), Order.status == "shipped")
    ).scalars()
    sold = {line.product.sku for order in moved for line in order.lines}
    assert slow and not slow & sold  # what the history sold from WH1 has moved in the last 30 days
    kept, network = kept_totals()
    assert network is not None and len(kept) == 4

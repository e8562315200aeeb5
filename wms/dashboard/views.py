"""The signed-in home page, and the managers' stock pages: search (as you type, a scanned barcode too), a product's
stock everywhere with its stock card, and the stock card as CSV."""

from __future__ import annotations

from types import SimpleNamespace

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.channels.service import mute_feed_lag
from wms.dashboard import charts, exceptions, flow, health, stock
from wms.dashboard.queries import home_view, locations_spec
from wms.errors import NotFound
from wms.params import InvalidParameter, parse_int
from wms.stock.checks import latest_check, run_check
from wms.tables import csv_response, tables_or_csv

bp = Blueprint("dashboard", __name__, template_folder="templates")


class ActionForm(FlaskForm):
    """No fields: the CSRF token of the forms that post to other pages' actions."""


@bp.get("/")
@login_required
def home():
    user = current_staff()
    view = home_view(user)
    places = tables_or_csv([locations_spec(view)])
    if isinstance(places, Response):
        return places
    # A manager lands on the network at a glance: what waits for them, the search box, the flow's chart.
    glance = exceptions.glance() if user.role in MANAGERS else None
    return render_template("dashboard/home.html", view=view, glance=glance, places=places["locations"])


@bp.get("/stock")
@roles_required(*MANAGERS)
def stock_search():
    query = request.args.get("q", "")
    hits = stock.search(query) if query.strip() else []
    if len(hits) == 1 and not request.args.get("csv"):  # a scanned barcode or a whole sku names one product
        return redirect(url_for("dashboard.stock_product", sku=hits[0].sku, lot=hits[0].lot or None), 303)
    view = tables_or_csv([stock.search_spec(hits)])
    if isinstance(view, Response):
        return view
    return render_template("dashboard/stock_search.html", query=query, hits=view["hits"])


@bp.get("/stock/search.json")
@roles_required(*MANAGERS)
def stock_search_json():
    """What the search box shows as you type: ``{"items": [{sku, name, on_hand, reserved, available, lot, url}]}``."""
    hits = stock.search(request.args.get("q", ""))
    return jsonify(
        {
            "items": [
                {
                    "sku": h.sku,
                    "name": h.name,
                    "on_hand": h.on_hand,
                    "reserved": h.reserved,
                    "available": h.available,
                    "lot": h.lot,
                    "url": url_for("dashboard.stock_product", sku=h.sku, lot=h.lot or None),
                }
                for h in hits
            ]
        }
    )


def _page_number() -> int:
    try:
        return parse_int(request.args.get("page"), "page", minimum=1, maximum=1_000_000) or 1
    except InvalidParameter:
        return 1


@bp.get("/stock/<path:sku>/history.json")
@roles_required(*MANAGERS)
def stock_history(sku: str):
    spec = charts.product_history(sku)
    if spec is None:
        abort(404)
    return jsonify(spec)


@bp.get("/charts/<name>.json")
@roles_required(*MANAGERS)
def chart(name: str):
    """The flow page's charts: ``orders`` per hour by channel, ``picks`` per hour by location, ``pickups``
    (median hours from ready to collected per store)."""
    makers = {"orders": charts.orders_per_hour, "picks": charts.picks_per_hour, "pickups": charts.pickup_times}
    if name not in makers:
        abort(404)
    return jsonify(makers[name]())


@bp.get("/stock/<path:sku>/card.csv")
@roles_required(*MANAGERS)
def stock_card_csv(sku: str):
    flt, _problems = stock.parse_card_filter(request.args)
    rows = stock.stock_card_csv(sku, flt)
    if rows is None:
        abort(404)

    return csv_response(rows, f"stock-card-{sku}.csv")


@bp.get("/stock/<path:sku>")
@roles_required(*MANAGERS)
def stock_product(sku: str):
    page = stock.product_page(sku)
    if page is None:
        abort(404)
    lists = tables_or_csv(stock.page_specs(page, page.product_id))
    if isinstance(lists, Response):
        return lists
    flt, problems = stock.parse_card_filter(request.args)
    card = stock.stock_card(sku, flt, _page_number(), request.args.get("sort", "newest"))
    return render_template(
        "dashboard/stock_product.html",
        page=page,
        lists=SimpleNamespace(**lists),
        card=card,
        flt=flt,
        problems=problems,
        reasons=stock.reasons(),
        locations=stock.location_codes(),
        sort=request.args.get("sort", "newest"),
        scanned_lot=request.args.get("lot") or None,
    )


@bp.get("/exceptions")
@roles_required(*MANAGERS)
def exceptions_page():
    view = tables_or_csv(exceptions.specs())
    if isinstance(view, Response):
        return view
    return render_template(
        "dashboard/exceptions.html",
        view=SimpleNamespace(**view),
        glance=exceptions.glance(),
        check=latest_check(),
        here=request.full_path.rstrip("?"),
        form=ActionForm(),
    )


@bp.post("/exceptions/feeds/<code>/mute")
@roles_required(*MANAGERS)
def mute_feed(code: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        mute_feed_lag(code)
    except NotFound:
        abort(404)
    flash(
        _("The feed of %(channel)s is off this list for a day; it comes back if the channel still lags.", channel=code),
        "success",
    )
    return redirect(url_for("dashboard.exceptions_page"), 303)


@bp.post("/exceptions/check")
@roles_required(*MANAGERS)
def run_stock_check():
    if not ActionForm().validate_on_submit():
        abort(400)
    check = run_check(actor=current_staff().username)
    if check.drift:
        flash(_("Problems the stock check found: %(n)s.", n=check.drift), "error")
    else:
        flash(_("The stock check found nothing wrong: the books agree with the ledger."), "success")
    return redirect(url_for("dashboard.exceptions_page"), 303)


@bp.get("/health")
@roles_required(*MANAGERS)
def health_page():
    locations = stock.location_codes()
    code = request.args.get("location") or (locations[0] if locations else None)
    try:
        days = parse_int(request.args.get("days"), "days", minimum=1, maximum=3650) or health.DEFAULT_DAYS
    except InvalidParameter:
        days = health.DEFAULT_DAYS
    view = health.health(code, days) if code else None
    if code and view is None:
        abort(404)
    lists = tables_or_csv(health.specs(view)) if view else {}
    if isinstance(lists, Response):
        return lists
    return render_template("dashboard/health.html", view=view, lists=SimpleNamespace(**lists), locations=locations)


@bp.get("/flow")
@roles_required(*MANAGERS)
def flow_page():
    view = tables_or_csv(flow.specs())
    if isinstance(view, Response):
        return view
    return render_template("dashboard/flow.html", view=SimpleNamespace(**view))


@bp.after_request
def _no_store(response):
    # Stock figures of a signed-in user: not for the browser cache of a shared counter PC after sign-out.
    response.headers["Cache-Control"] = "no-store"
    return response

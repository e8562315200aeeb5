"""Staff product pages: search the catalogue, see a product's barcodes and stock by bin, print its label."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from wms.auth.access import roles_required
from wms.auth.current import current_staff
from wms.catalog.queries import export_products, product_detail, search_products
from wms.params import MAX_PAGE, page_int
from wms.printing.service import print_product_label
from wms.printing.views import ALL_ROLES, print_form, read_print_form, web_key
from wms.tables import csv_cell, csv_response

bp = Blueprint("catalog", __name__, template_folder="templates")


@bp.get("/products")
@roles_required(*ALL_ROLES)
def products():
    user, query, sort = current_staff(), request.args.get("q", ""), request.args.get("sort")
    if request.args.get("csv") == "products":
        return _products_csv(user, query, sort)
    page = page_int("page", minimum=1, maximum=MAX_PAGE, default=1)
    view = search_products(user, query, page=page, sort=sort)
    return render_template("catalog/products.html", view=view)


def _products_csv(user, query: str, sort: str | None):
    """The list as it is searched and sorted, whole, streamed (text cells safe for spreadsheets)."""
    header = [_("SKU"), _("Name"), _("Barcodes"), _("On hand"), _("Reserved"), _("Available"), _("Stock by location")]

    def rows():
        yield [str(h) for h in header]
        for p in export_products(user, query, sort):
            by_location = " ".join(f"{s.location}:{s.on_hand}" for s in p.stock)
            reserved = sum(s.reserved for s in p.stock)
            yield [
                csv_cell(p.sku),
                csv_cell(p.name),
                csv_cell(" ".join(p.barcodes)),
                csv_cell(p.on_hand),
                csv_cell(reserved),
                csv_cell(p.available),
                csv_cell(by_location),
            ]

    return csv_response(rows(), "products.csv")


@bp.get("/products/<path:sku>")
@roles_required(*ALL_ROLES)
def product(sku: str):
    user = current_staff()
    view = product_detail(user, sku)
    form = print_form(user, prefer_location=user.location.code if user.location else None)
    return render_template("catalog/product.html", view=view, form=form)


@bp.post("/products/<path:sku>/print")
@roles_required(*ALL_ROLES)
def print_product(sku: str):
    user = current_staff()
    printer_id, copies, key = read_print_form(user)
    job = print_product_label(
        printer_id, sku, copies=copies, idempotency_key=web_key(user, key, "product", sku), actor=user
    )
    status = url_for("printing.job", job_id=job.id)
    flash(
        Markup('Label of {} queued on {}: <a href="{}">job #{}</a>.').format(sku, job.printer.name, status, job.id),
        "success",
    )
    return redirect(url_for("catalog.product", sku=sku), 303)

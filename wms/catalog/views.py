"""Staff product pages: search the catalogue, see a product's barcodes and stock by bin, print its label."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from wms.auth.access import roles_required
from wms.auth.current import current_staff
from wms.catalog.queries import product_detail, search_products
from wms.params import MAX_PAGE, page_int
from wms.printing.service import print_product_label
from wms.printing.views import ALL_ROLES, print_form, read_print_form, web_key

bp = Blueprint("catalog", __name__, template_folder="templates")


@bp.get("/products")
@roles_required(*ALL_ROLES)
def products():
    page = page_int("page", minimum=1, maximum=MAX_PAGE, default=1)
    view = search_products(current_staff(), request.args.get("q", ""), page=page)
    return render_template("catalog/products.html", view=view)


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

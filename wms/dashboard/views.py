"""The signed-in home page: who and where you are, and the stock of the locations you may see."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from wms.auth.current import current_staff
from wms.dashboard.queries import home_view

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.get("/")
@login_required
def home():
    view = home_view(current_staff())
    return render_template("dashboard/home.html", view=view)


@bp.after_request
def _no_store(response):
    # Stock figures of a signed-in user: not for the browser cache of a shared counter PC after sign-out.
    response.headers["Cache-Control"] = "no-store"
    return response

"""Staff printing pages: label previews, printers, print jobs, and the banner that tells a person their labels
did not print.

Thin views: parse the input, call one service (or read) function, render. Writes go through
``wms.printing.service`` (units of work); reads through ``wms.printing.queries``.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.auth.models import ROLES
from wms.auth.rules import safe_next
from wms.auth.service import visible_locations
from wms.errors import N_, NotFound, ValidationError, WMSError
from wms.params import MAX_BIG_ID, MAX_ID, MAX_PAGE, page_int, session_int
from wms.printing import previews, queries, service
from wms.printing.models import JOB_STATUSES, PrintJob
from wms.security import STRICT_CSP
from wms.tables import csv_cell, csv_response

bp = Blueprint("printing", __name__, template_folder="templates")

ALL_ROLES = ROLES
#: copies one print form may ask for
MAX_FORM_COPIES = 100
#: session key: the highest job id whose "did not print" banner the user dismissed
SEEN_KEY = "print_jobs_seen"
#: session key: the printer the user printed on last (preselected next time)
LAST_PRINTER_KEY = "last_printer_id"

# --- forms ---------------------------------------------------------------------------------------------------


class PrintForm(FlaskForm):
    """Print a label: printer, copies, and a key made when the form was shown, so that a double submit (or the
    browser re-posting it) gives the first job back instead of a second label."""

    printer = SelectField(_l("Printer"), coerce=int, validate_choice=False)
    copies = IntegerField(
        _l("Copies"),
        default=1,
        validators=[
            InputRequired(_l("Say how many copies.")),
            NumberRange(1, MAX_FORM_COPIES, _l("Copies: 1 to 100.")),
        ],
    )
    key = HiddenField()


class ActionForm(FlaskForm):
    """No fields: the CSRF token of a button (reprint, cancel, test, dismiss)."""


class PrinterForm(FlaskForm):
    """A printer as a manager adds or edits it. The fields are checked by the service (every field at once, the
    printer URL rules included); the form itself checks only the CSRF token."""

    name = StringField(_l("Name"))
    url = StringField(_l("URL"))
    location = SelectField(_l("Location"), validate_choice=False)
    station = StringField(_l("Station"))


def print_form(user, prefer_location: str | None = None) -> PrintForm:
    """A print form for ``user``: their printers (the ``prefer_location`` ones first), the printer they used last
    preselected, and a new idempotency key."""
    form = PrintForm(formdata=None)
    choices = queries.printer_choices(user, prefer_location)
    form.printer.choices = choices
    ids = [pid for group in choices.values() for pid, _label in group]
    last = session.get(LAST_PRINTER_KEY)
    form.printer.data = last if last in ids else (ids[0] if ids else None)
    form.key.data = uuid.uuid4().hex
    return form


def read_print_form(user) -> tuple[int, int, str]:
    """(printer id, copies, idempotency key) of a posted print form. The printer must be one ``user`` may print
    on. A bad form raises a WMSError, which the error handler shows as a message on the page it came from."""
    form = PrintForm()
    form.printer.choices = queries.printer_choices(user)
    form.printer.validate_choice = True
    if not form.validate_on_submit():
        problems = []
        for name, errors in form.errors.items():
            if name == "printer":
                problems.append(_("Choose one of your printers."))
            elif name == "csrf_token":
                problems.append(_("The form had expired: please try again."))
            else:
                problems.extend(str(e) for e in errors)
        raise WMSError(" ".join(problems) or _("Check the form."), code="validation_error", status=422)
    key = (form.key.data or "").strip()[:64] or uuid.uuid4().hex
    session[LAST_PRINTER_KEY] = form.printer.data
    return form.printer.data, form.copies.data, key


def web_key(user, key: str, *parts: Any) -> str:
    """The idempotency key of a print request from a page: the user, the form's key and what was asked for (one
    form can print a bin, an aisle or every bin)."""
    return ":".join(str(p) for p in ("web", user.id, key, *parts))


def _safe_next(default: str) -> str:
    return safe_next(request.form.get("next")) or default


# --- template helpers ------------------------------------------------------------------------------------------


def job_subject(job: PrintJob) -> str:
    """What a job prints, for people: "Product label KT-1001", "Bin label WH1/A-01", "Test label"."""
    if job.kind == "test" or (job.reference or "") == "test":
        return _("Test label")
    known = previews.KIND_TITLES.get(job.kind)
    title = _(known) if known else job.kind.replace("_", " ").capitalize()
    reference = job.reference or ""
    if ":" in reference:
        reference = reference.split(":", 1)[1]
    return f"{title} {reference}".strip()


def job_link(job: PrintJob) -> str | None:
    """The page of what a job printed (the product, the location's bins), if there is one."""
    reference = job.reference or ""
    what, _sep, rest = reference.partition(":")
    if what == "product" and rest:
        return url_for("catalog.product", sku=rest)
    if what == "bin" and "/" in rest:
        return url_for("locations.bins", code=rest.split("/", 1)[0])
    return None


def job_problem(job: PrintJob) -> str:
    """Why a job needs attention, in words."""
    if job.status == "unknown":
        return _("may or may not have printed (the print worker stopped while sending): look at the printer")
    if job.status == "failed":
        return job.last_error or _("gave up")
    if job.status == "queued" and job.last_error:
        return _("waiting: %(problem)s", problem=job.last_error)
    return job.last_error or ""


def job_status(status: str) -> str:
    """A job's status as a word in the page's language (a job is masculine in Polish: "wydruk"); an unknown one as
    stored."""
    words = {
        "queued": _("queued"),
        "sending": _("sending"),
        "printed": _("printed"),
        "failed": _("failed"),
        "unknown": _("unknown"),
        "cancelled": pgettext("print job", "cancelled"),
    }
    return words.get(status, status)


#: the words of a printer's state that the WMS itself says (a printer's own words show as it said them)
STATE_WORDS = {"disabled": N_("disabled"), "not checked yet": N_("not checked yet"), "ready": N_("ready")}


def state_badge(state: str | None, active: bool = True) -> tuple[str, str]:
    """``queries.state_badge`` with its own words in the page's language."""
    text, css = queries.state_badge(state, active)
    known = STATE_WORDS.get(text)
    return (_(known) if known else text), css


@bp.app_context_processor
def _printing_context() -> dict[str, Any]:
    helpers = {
        "state_badge": state_badge,
        "job_badge": queries.job_badge,
        "job_subject": job_subject,
        "job_link": job_link,
        "job_problem": job_problem,
        "job_status": job_status,
    }
    if not current_user.is_authenticated or request.blueprint == "api":
        return helpers
    # The person who asked must hear that their labels did not print, on whatever page they are on.
    jobs, count = queries.jobs_needing_attention(current_staff(), after_id=session_int(session, SEEN_KEY))
    helpers["print_trouble"] = {"jobs": jobs, "count": count, "form": ActionForm()} if count else None
    return helpers


@bp.after_request
def _headers(response: Response) -> Response:
    # Pages of a signed-in user: not for the browser cache of a shared counter PC after sign-out. No scripts.
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", STRICT_CSP)
    return response


# --- label previews (managers) ---------------------------------------------------------------------------------


@bp.get("/labels")
@roles_required(*MANAGERS)
def labels_index():
    kinds = [{**k, "title": _(k["title"]), "note": _(k["note"])} for k in previews.kinds()]
    return render_template("printing/labels.html", kinds=kinds)


@bp.get("/labels/<kind>/preview.<fmt>")
@roles_required(*MANAGERS)
def label_preview(kind: str, fmt: str):
    """A label as PDF, PNG or ZPL: ``product?sku=``, ``bin?location=&bin=``, or the sample of any kind."""
    try:
        previews.check_preview(kind, fmt)
        data = None
        if kind == "product" and request.args.get("sku"):
            data = service.product_label_data(request.args["sku"])
        elif kind == "bin" and (request.args.get("location") or request.args.get("bin")):
            data = service.bin_label_data(request.args.get("location", ""), request.args.get("bin", ""))
        body = previews.render_preview(kind, data, fmt)
    except NotFound:
        raise  # the 404 page (wms.errors), not the 422 below
    except previews.PreviewUnavailable as exc:
        return Response(exc.message, 503, mimetype="text/plain")
    except (ValueError, WMSError) as exc:
        # Data the label cannot take (a product without a barcode): say so rather than fail.
        return Response(f"this label cannot be drawn: {getattr(exc, 'message', exc)}", 422, mimetype="text/plain")
    # content_type, not mimetype: the type already names its charset, which mimetype= would add again.
    response = Response(body, content_type=previews.CONTENT_TYPES[fmt])
    name = f"{kind}-preview.{fmt}"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    # Sample previews never change; real products' may (a new name): a short private cache for the labels page.
    response.headers["Cache-Control"] = "private, max-age=300" if data is None else "private, no-cache"
    return response


# --- printers ------------------------------------------------------------------------------------------------


@bp.get("/printers")
@roles_required(*ALL_ROLES)
def printers():
    groups = queries.printers_by_location(current_staff())
    can_manage = current_staff().role in MANAGERS
    return render_template("printing/printers.html", groups=groups, form=ActionForm(), can_manage=can_manage)


@bp.post("/printers/<int:printer_id>/test")
@roles_required(*ALL_ROLES)
def printer_test(printer_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    # Another store's printer is as unknown as a printer that does not exist: NotFound, a 404 page.
    printer = queries.get_printer_for(current_staff(), printer_id)
    job = service.print_test_label(printer.name, actor=current_staff())
    flash(_("Test label queued on %(printer)s as job %(job)s.", printer=job.printer.name, job=job.id), "success")
    return redirect(url_for("printing.job", job_id=job.id), 303)


# --- adding, editing and disabling printers (managers) ----------------------------------------------------------


def _printer_form_page(form: PrinterForm, printer=None, errors: dict[str, list[str]] | None = None, status: int = 200):
    form.location.choices = [(loc.code, f"{loc.code} · {loc.name}") for loc in visible_locations(current_staff())]
    page = render_template("printing/printer_form.html", form=form, printer=printer, errors=errors or {})
    return page, status


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for detail in exc.details or [{"field": "", "message": exc.message}]:
        errors.setdefault(detail.get("field") or "", []).append(detail.get("message", ""))
    return errors


def _posted_printer_form() -> PrinterForm:
    form = PrinterForm()
    if not form.validate_on_submit():
        abort(400)  # only the CSRF token is checked here: an expired form
    return form


@bp.get("/printers/new")
@roles_required(*MANAGERS)
def printer_new():
    form = PrinterForm(formdata=None, location=request.args.get("location", ""))
    return _printer_form_page(form)


@bp.post("/printers/new")
@roles_required(*MANAGERS)
def printer_create():
    form = _posted_printer_form()
    try:
        printer = service.add_printer(
            form.name.data or "", form.url.data or "", form.location.data or "", form.station.data
        )
    except ValidationError as exc:
        return _printer_form_page(form, errors=_field_errors(exc), status=422)
    flash(_("Printer %(name)s added.", name=printer.name), "success")
    return redirect(url_for("printing.printers"), 303)


def _managed_printer(printer_id: int):
    return queries.get_printer_for(current_staff(), printer_id)


@bp.get("/printers/<int:printer_id>/edit")
@roles_required(*MANAGERS)
def printer_edit(printer_id: int):
    printer = _managed_printer(printer_id)
    form = PrinterForm(
        formdata=None,
        name=printer.name,
        url=printer.url,
        location=printer.location.code,
        station=printer.station.code if printer.station else "",
    )
    return _printer_form_page(form, printer)


@bp.post("/printers/<int:printer_id>/edit")
@roles_required(*MANAGERS)
def printer_update(printer_id: int):
    printer = _managed_printer(printer_id)
    form = _posted_printer_form()
    form.name.data = printer.name  # the name stays: station agents know the printer by it
    try:
        printer = service.update_printer(printer_id, form.url.data or "", form.location.data or "", form.station.data)
    except ValidationError as exc:
        return _printer_form_page(form, printer, errors=_field_errors(exc), status=422)
    flash(_("Printer %(name)s saved.", name=printer.name), "success")
    return redirect(url_for("printing.printers"), 303)


@bp.post("/printers/<int:printer_id>/disable")
@roles_required(*MANAGERS)
def printer_disable(printer_id: int):
    return _set_enabled(printer_id, False)


@bp.post("/printers/<int:printer_id>/enable")
@roles_required(*MANAGERS)
def printer_enable(printer_id: int):
    return _set_enabled(printer_id, True)


def _set_enabled(printer_id: int, enabled: bool):
    if not ActionForm().validate_on_submit():
        abort(400)
    _managed_printer(printer_id)
    printer = service.set_printer_enabled(printer_id, enabled)
    if enabled:
        flash(_("Printer %(name)s enabled.", name=printer.name), "success")
    else:
        flash(
            _("Printer %(name)s disabled: it takes no new jobs; jobs queued before wait.", name=printer.name), "success"
        )
    return redirect(url_for("printing.printers"), 303)


# --- print jobs ----------------------------------------------------------------------------------------------


def _int_arg(name: str, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    return page_int(name, minimum=minimum, maximum=maximum)


@bp.get("/print-jobs")
@roles_required(*ALL_ROLES)
def jobs():
    status = request.args.get("status") or None
    filters = queries.JobFilters(
        status=status if status in JOB_STATUSES else None,
        printer_id=_int_arg("printer"),
        location=(request.args.get("location") or "").strip() or None,
        mine=request.args.get("mine") == "1",
    )
    if request.args.get("csv") == "jobs":
        return _jobs_csv(filters)
    view = queries.jobs_page(current_staff(), filters, page=_int_arg("page", 1, MAX_PAGE) or 1)
    return render_template("printing/jobs.html", view=view, statuses=JOB_STATUSES, form=ActionForm())


def _jobs_csv(filters: queries.JobFilters) -> Response:
    """The list as it is filtered, whole and newest first, streamed (text cells safe for spreadsheets)."""
    labels = {
        "id": _("Job"),
        "kind": _("Label"),
        "reference": _("Reference"),
        "printer": _("Printer"),
        "location": _("Location"),
        "status": _("Status"),
        "copies": _("Copies"),
        "attempts": _("Attempts"),
        "requested_by": _("Asked by"),
        "created_at": _("Queued"),
        "printed_at": _("Printed"),
        "last_error": _("Last error"),
        "reprint_of": _("Reprint of"),
    }
    columns = queries.JOB_EXPORT_COLUMNS

    def rows():
        yield [str(labels[key]) for key in columns]
        for job in queries.export_jobs(current_staff(), filters):
            yield [csv_cell(job[key]) for key in columns]

    return csv_response(rows(), "print-jobs.csv")


@bp.get("/print-jobs/<bigint:job_id>")
@roles_required(*ALL_ROLES)
def job(job_id: int):
    view = queries.job_for(current_staff(), job_id)
    return render_template("printing/job.html", view=view, form=ActionForm())


@bp.post("/print-jobs/<bigint:job_id>/reprint")
@roles_required(*ALL_ROLES)
def reprint(job_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    queries.job_for(current_staff(), job_id)  # NotFound for another store's job too
    new = service.reprint(job_id, actor=current_staff())
    flash(_("Reprint queued as job %(job)s.", job=new.id), "success")
    return redirect(url_for("printing.job", job_id=new.id), 303)


@bp.post("/print-jobs/<bigint:job_id>/cancel")
@roles_required(*ALL_ROLES)
def cancel(job_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    was = queries.job_for(current_staff(), job_id).job.status
    job = service.cancel_job(job_id, actor=current_staff())
    if was == "queued":
        flash(_("Job %(job)s cancelled: it will not print.", job=job.id), "success")
    else:
        flash(_("Job %(job)s dismissed.", job=job.id), "success")
    return redirect(_safe_next(url_for("printing.job", job_id=job_id)), 303)


@bp.post("/print-jobs/dismiss")
@roles_required(*ALL_ROLES)
def dismiss():
    """Hide the "did not print" banner for the jobs it showed (a newer failure shows it again)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    upto = page_int("upto", maximum=MAX_BIG_ID, source=request.form)
    if upto is not None:
        session[SEEN_KEY] = max(upto, session_int(session, SEEN_KEY))
    return redirect(_safe_next(url_for("printing.jobs")), 303)

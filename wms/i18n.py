"""The language of pages (Flask-Babel): the signed-in user's own choice, else the browser's best match among the
languages we have (Accept-Language), else the ``WMS_DEFAULT_LANGUAGE`` setting.

Catalogs live in ``wms/translations/<lang>/LC_MESSAGES``; the compiled ``messages.mo`` is committed beside its
``.po`` so an install needs no compile step (tests/unit/test_translations.py fails when one is stale). English is the
language of the source strings, so it needs no catalog.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, get_locale, gettext
from flask_login import current_user

from wms.auth.models import LANGUAGES
from wms.errors import N_

babel = Babel()

#: stored values shown as words on pages (roles, location kinds): ``{{ user.role|label }}``; others show as stored
VALUE_LABELS = {
    "picker": N_("picker"),
    "clerk": N_("clerk"),
    "manager": N_("manager"),
    "admin": N_("admin"),
    "warehouse": N_("warehouse"),
    "store": N_("store"),
}


def init_app(app: Flask) -> None:
    """Check ``DEFAULT_LANGUAGE`` (an unknown one stops the app here, not on the first page) and start Babel."""
    default = app.config["DEFAULT_LANGUAGE"]
    if default not in LANGUAGES:
        raise ValueError(f"WMS_DEFAULT_LANGUAGE: {default!r} is not one of {', '.join(LANGUAGES)}")
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LANGUAGE"]
    babel.init_app(app, locale_selector=page_language)
    app.add_template_global(lambda: str(get_locale() or app.config["DEFAULT_LANGUAGE"]), "page_language")
    app.add_template_global(LANGUAGES, "LANGUAGES")
    app.add_template_filter(label, "label")


def label(value: object) -> str:
    """A stored value (a role, a location kind) in the page's language; an unknown one as it is."""
    known = VALUE_LABELS.get(str(value))
    return gettext(known) if known else str(value)


def page_language() -> str:
    """The language of this request's page (Flask-Babel's locale selector)."""
    if not has_request_context():
        return current_app.config["DEFAULT_LANGUAGE"]
    if current_user and current_user.is_authenticated and current_user.language:
        return current_user.language
    return request.accept_languages.best_match(LANGUAGES) or current_app.config["DEFAULT_LANGUAGE"]

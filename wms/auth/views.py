"""Staff sign-in and sign-out (Flask-Login sessions, Flask-WTF forms with CSRF tokens)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from wms.auth.rules import MAX_PASSWORD_LENGTH, safe_next
from wms.auth.service import authenticate_user, load_user
from wms.extensions import login_manager

bp = Blueprint("auth", __name__, template_folder="templates")

#: one message for an unknown user, a wrong password and an inactive user: it must not tell them apart
WRONG_LOGIN = "Wrong username or password."


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    """No fields: the CSRF token is what makes a sign-out from another site impossible."""

    submit = SubmitField("Sign out")


@bp.record_once
def _configure(state) -> None:
    app = state.app
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(_sign_in_first)
    # Flask's default leaves SameSite unset; Lax keeps the session cookie off cross-site POSTs.
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)

    @app.context_processor
    def _logout_form():
        # Every page that shows the header needs the sign-out button's form.
        return {"logout_form": LogoutForm() if current_user.is_authenticated else None}


def _sign_in_first():
    """A page needs a signed-in user: go to the sign-in page and come back here afterwards."""
    target = request.full_path if request.query_string else request.path
    if request.path == "/":
        return redirect(url_for("auth.login"))  # the front door: no message, nothing to come back to
    flash("Please sign in to see this page.", "info")
    return redirect(url_for("auth.login", next=target))


@bp.app_errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    # Usually an old page (session expired, server restarted with a new key) rather than an attack: say what to do.
    return render_template("auth/form_expired.html", reason=error.description), 400


def _fresh_session() -> None:
    session.clear()
    # The CSRF secret went with the session: forget the token derived from it for the rest of this app context.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("dashboard.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate_user(form.username.data, form.password.data)
        if user is not None:
            _fresh_session()  # nothing from before the sign-in survives it
            login_user(user)
            return redirect(target or url_for("dashboard.home"), 303)
        error = WRONG_LOGIN
    elif request.method == "POST":
        # Blank fields, or a name or password too long to belong to anyone.
        filled = form.username.data and form.password.data
        error = WRONG_LOGIN if filled else "Enter your username and password."
    status = 200 if error is None else 401
    return render_template("auth/login.html", form=form, error=error, next=target), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        logout_user()
        _fresh_session()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)

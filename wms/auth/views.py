"""Staff sign-in and sign-out (Flask-Login over server-side sessions, Flask-WTF forms with CSRF tokens), and the
managers' page of sign-in failures."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from wms.auth.access import MANAGERS, roles_required
from wms.auth.current import current_staff
from wms.auth.models import LANGUAGES
from wms.auth.queries import sign_in_failures_view
from wms.auth.rules import MAX_PASSWORD_LENGTH, safe_next
from wms.auth.service import change_own_password, end_session, resume_session, set_user_language, start_session
from wms.errors import N_, TooManyAttempts, Unauthorized, ValidationError
from wms.extensions import login_manager

bp = Blueprint("auth", __name__, template_folder="templates")

#: one message for an unknown user, a wrong password and an inactive user: it must not tell them apart
WRONG_LOGIN = N_("Wrong username or password.")
#: the Flask session key that holds the key of the server-side session (``user_session``)
SESSION_KEY = "_wms_session"


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    submit = SubmitField("Sign in")


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    repeat = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("new_password", "The two new passwords differ.")]
    )
    submit = SubmitField("Change password")


class LogoutForm(FlaskForm):
    """No fields: the CSRF token is what makes a sign-out from another site impossible."""

    submit = SubmitField("Sign out")


class LanguageForm(FlaskForm):
    """The header's language switch: one button per language, the CSRF token keeps other sites from using it."""

    language = HiddenField()


@bp.record_once
def _configure(state) -> None:
    app = state.app
    login_manager.login_view = "auth.login"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_sign_in_first)
    # Flask's default leaves SameSite unset; Lax keeps the session cookie off cross-site POSTs.
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    if app.config.get("SECURE_COOKIES"):
        # Behind HTTPS the cookies must never travel over plain HTTP, where anyone on the network reads them.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

    @app.context_processor
    def _logout_form():
        # Every page that shows the header needs the sign-out button's form.
        return {"logout_form": LogoutForm() if current_user.is_authenticated else None}

    @app.context_processor
    def _language_form():
        return {"language_form": LanguageForm() if current_user.is_authenticated else None}


def _load_user(user_id: str):
    # The cookie alone is not enough: its server-side session must still be open (see resume_session).
    return resume_session(user_id, session.get(SESSION_KEY))


def _sign_in_first():
    """A page needs a signed-in user: go to the sign-in page and come back here afterwards."""
    target = request.full_path if request.query_string else request.path
    if request.path == "/":
        return redirect(url_for("auth.login"))  # the front door: no message, nothing to come back to
    flash(_("Please sign in to see this page."), "info")
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
    headers = {}
    status = 200
    if form.validate_on_submit():
        try:
            user, key = start_session(
                form.username.data, form.password.data, request.remote_addr, request.user_agent.string
            )
        except TooManyAttempts as exc:
            error, status = _("Too many attempts, try again in %(seconds)s s.", seconds=exc.retry_after), 429
            headers["Retry-After"] = str(exc.retry_after)
        except Unauthorized:
            error, status = _(WRONG_LOGIN), 401
        else:
            _fresh_session()  # nothing from before the sign-in survives it
            session[SESSION_KEY] = key
            login_user(user)
            return redirect(target or url_for("dashboard.home"), 303)
    elif request.method == "POST":
        # Blank fields, or a name or password too long to belong to anyone.
        filled = form.username.data and form.password.data
        error, status = (_(WRONG_LOGIN) if filled else _("Enter your username and password.")), 401
    return render_template("auth/login.html", form=form, error=error, next=target), status, headers


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        end_session(session.get(SESSION_KEY))  # a copy of the cookie dies with it
        logout_user()
        _fresh_session()
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.get("/security/sign-ins")
@roles_required(*MANAGERS)
def sign_in_failures():
    response = make_response(render_template("auth/sign_ins.html", view=sign_in_failures_view()))
    response.headers["Cache-Control"] = "no-store"  # who tried which name from where: not for a shared PC's cache
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        try:
            change_own_password(
                current_staff().username,
                form.current_password.data,
                form.new_password.data,
                request.remote_addr,
                session.get(SESSION_KEY),
            )
        except TooManyAttempts as exc:
            error, status = _("Too many attempts, try again in %(seconds)s s.", seconds=exc.retry_after), 429
            headers["Retry-After"] = str(exc.retry_after)
        except Unauthorized:
            error, status = _("Your current password is not right."), 401
        except ValidationError as exc:
            error, status = f"The new password {exc.details[0]['message']}.", 422
        else:
            flash(_("Your password is changed; your other sessions have ended."), "info")
            return redirect(url_for("dashboard.home"), 303)
    elif request.method == "POST":
        status = 422
        error = next((e for errors in form.errors.values() for e in errors), "Fill in every field.")
        if form.current_password.errors or form.new_password.errors:
            error = _("Fill in your current password and the new one twice.")
    return render_template("auth/password.html", form=form, error=error), status, headers


@bp.post("/account/language")
@login_required
def change_language():
    """The header's switch: the signed-in user's pages speak this language from now on (back to the same page)."""
    form = LanguageForm()
    if not form.validate_on_submit() or form.language.data not in LANGUAGES:
        raise ValidationError.one("language", f"must be one of {', '.join(LANGUAGES)}")
    set_user_language(current_staff().username, form.language.data, actor=current_staff().username)
    return redirect(safe_next(request.args.get("next")) or url_for("dashboard.home"), 303)

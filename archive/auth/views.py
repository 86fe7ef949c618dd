"""Log-in, log-out, the user's own account and language; user administration."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core.errors import ValidationError
from ..extensions import db, login_manager
from . import services
from .forms import ChangePasswordForm, LoginForm
from .models import User

bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


login_manager.login_message = None  # the login page explains itself


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a user to another host after log-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, request.remote_addr or "")
        except services.LoginThrottled as exc:
            flash(_("Too many failed log-ins. Try again in %(minutes)s minutes.", minutes=exc.minutes), "error")
            status = 429
        else:
            if user is not None:
                session.clear()
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            flash(_("Login or password is wrong, or the account is disabled."), "error")
            status = 401
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    services.record_logout(current_user, request.remote_addr or "")
    logout_user()
    session.clear()
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    locale = request.form.get("locale", "")
    if locale in ("zh_Hans", "en"):
        session["locale"] = locale
        if current_user.is_authenticated:
            services.set_locale(current_user, locale)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.new.data)
        except ValidationError as exc:
            flash(_(exc.message, **exc.details), "error")
        else:
            flash(_("Your password is changed."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@admin_bp.get("/users")
@login_required
def users():
    return render_template("auth/users.html", users=services.list_users(current_user))

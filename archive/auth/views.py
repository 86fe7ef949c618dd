"""Log-in, log-out, the user's own account and language; user administration."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core.errors import ArchiveError, ValidationError
from ..core.permissions import policy
from ..core.web import error_text, safe_next
from ..extensions import db, login_manager
from . import services
from .forms import ChangePasswordForm, DepartmentForm, EditUserForm, LoginForm, NewUserForm
from .models import User

bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


login_manager.login_message = None  # the login page explains itself




def _error_message(exc: ArchiveError) -> str:
    return error_text(exc)


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
                # A fresh session on log-in (no fixation); the language chosen on the login page stays.
                locale = session.get("locale")
                session.clear()
                if locale:
                    session["locale"] = locale
                login_user(user)
                return redirect(safe_next(request.args.get("next")))
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
    return redirect(safe_next(request.form.get("next")))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.new.data)
        except ValidationError as exc:
            flash(_error_message(exc), "error")
        else:
            flash(_("Your password is changed."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


# --- user administration (三员分立: administrators manage accounts and read no documents) -------------


@admin_bp.before_request
@login_required
def administrators_only() -> None:
    """Every administration page is for `manage_users`; the services check again."""
    policy.require(current_user, "manage_users")


def _password_once(account: User, password: str, *, created: bool):
    """The new password is shown on this one answer only: not stored, not logged, not cached."""
    response = make_response(
        render_template("auth/password_once.html", account=account, password=password, created=created)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_bp.get("/users")
def users():
    return render_template("auth/users.html", users=services.list_users(current_user))


@admin_bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm(departments=services.list_departments())
    status = 200
    if form.validate_on_submit():
        try:
            account, password = services.create_user(
                current_user,
                username=form.username.data,
                display_name=form.display_name.data,
                email=form.email.data,
                department_code=form.department.data,
                roles=form.selected_roles,
                clearance=form.selected_clearance,
            )
        except ArchiveError as exc:
            flash(_error_message(exc), "error")
            status = exc.status_code
        else:
            return _password_once(account, password, created=True)
    elif form.is_submitted():
        status = 400
    return render_template("auth/user_new.html", form=form), status


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    account = services.get_user(current_user, user_id)
    form = EditUserForm(
        departments=services.list_departments(),
        data={
            "display_name": account.display_name,
            "email": account.email or "",
            "department": account.department.code,
            "roles": sorted(role.value for role in account.roles),
            "clearance": account.clearance.value,
            "active": account.active,
        },
    )
    status = 200
    if form.validate_on_submit():
        try:
            services.update_user(
                current_user,
                user_id,
                display_name=form.display_name.data,
                email=form.email.data,
                department_code=form.department.data,
                roles=form.selected_roles,
                clearance=form.selected_clearance,
                active=form.active.data,
            )
        except ArchiveError as exc:
            flash(_error_message(exc), "error")
            status = exc.status_code
        else:
            flash(_("The account of %(login)s is saved.", login=account.username), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    elif form.is_submitted():
        status = 400
    return render_template("auth/user_edit.html", account=account, form=form), status


@admin_bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    password = services.reset_password(current_user, user_id)
    return _password_once(services.get_user(current_user, user_id), password, created=False)


@admin_bp.route("/departments", methods=["GET", "POST"])
def departments():
    form = DepartmentForm()
    status = 200
    if form.validate_on_submit():
        try:
            department = services.create_department(
                current_user, form.code.data, form.name.data, form.name_en.data or "", form.is_archive.data
            )
        except ArchiveError as exc:
            flash(_error_message(exc), "error")
            status = exc.status_code
        else:
            flash(_("Department %(code)s is created.", code=department.code), "success")
            return redirect(url_for("admin.departments"))
    elif form.is_submitted():
        status = 400
    return render_template("auth/departments.html", departments=services.list_departments(), form=form), status

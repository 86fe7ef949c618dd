"""The pages of API tokens: a user's own (create, shown once, list, revoke) and an administrator's view."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from ..core.errors import ValidationError
from ..core.types import utcnow
from ..core.web import error_text
from . import tokens

bp = Blueprint("api_tokens", __name__)


class NewTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Where the token is used, e.g. the scanning station in the sales office."))
    days = IntegerField(_l("Valid for (days)"), default=90,
                        validators=[DataRequired(), NumberRange(min=1, max=tokens.MAX_DAYS)])


def _own_page(form: NewTokenForm, status: int = 200):
    return render_template("api/tokens.html", form=form, now=utcnow(),
                           tokens=tokens.tokens_of(current_user, current_user.id)), status


@bp.get("/account/api-tokens")
@login_required
def own_tokens():
    return _own_page(NewTokenForm())


@bp.post("/account/api-tokens")
@login_required
def create():
    form = NewTokenForm()
    if not form.validate():
        return _own_page(form, 400)
    try:
        created = tokens.create_token(current_user, name=form.name.data, days=form.days.data)
    except ValidationError as exc:
        flash(error_text(exc), "error")
        return _own_page(form, 400)
    # The secret is on this one answer only: not stored, not logged, not cached.
    response = make_response(render_template("api/token_once.html", token=created.token, secret=created.secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """A POST (the app's CSRF check covers it) from either list."""
    token = tokens.revoke(current_user, token_id)
    flash(_("The token %(prefix)s… is revoked: it no longer works.", prefix=token.prefix), "success")
    if token.user_id == current_user.id:
        return redirect(url_for(".own_tokens"))
    return redirect(url_for(".all_tokens"))


@bp.get("/admin/api-tokens")
@login_required
def all_tokens():
    return render_template("api/all_tokens.html", tokens=tokens.all_tokens(current_user), now=utcnow())

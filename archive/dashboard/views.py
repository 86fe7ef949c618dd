"""The landing page."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from . import services

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def home():
    return render_template("dashboard/home.html", board=services.dashboard(current_user))

"""The landing page."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from . import services

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def home():
    board = services.dashboard(current_user)
    if board.empty:  # nothing waits here for this role: its work starts at the dossiers
        return redirect(url_for("units.dossiers"))
    return render_template("dashboard/home.html", board=board)

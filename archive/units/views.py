from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("units", __name__)


@bp.get("/dossiers")
@login_required
def dossiers():
    return render_template("base.html")


@bp.get("/projects")
@login_required
def projects():
    return render_template("base.html")

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@login_required
def events():
    return render_template("base.html")

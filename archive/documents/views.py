from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("documents", __name__)


@bp.get("/search")
@login_required
def search():
    return render_template("base.html")

"""The import page: check a manifest against a folder on the server, start the import, watch it run."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..core.errors import ArchiveError
from ..core.web import error_text
from . import services
from .forms import ImportForm, StartForm
from .models import JobState

bp = Blueprint("imports", __name__, url_prefix="/imports")

REFRESH_SECONDS = 2


def _import_form(**kwargs) -> ImportForm:
    form = ImportForm(**kwargs)
    form.folder.choices = [SelectChoice(f, _("(the import folder itself)") if f == "." else f)
                           for f in services.import_folders()]
    return form


def _home(form: ImportForm, error: str | None = None, status: int = 200):
    jobs = services.import_page_jobs(current_user)
    return render_template("imports/home.html", form=form, jobs=jobs, error=error,
                           root_configured=services.import_root() is not None), status


@bp.get("/")
@login_required
def home():
    return _home(_import_form(formdata=None))


@bp.post("/")
@login_required
def check():
    form = _import_form()
    if not form.validate():
        return _home(form, status=400)
    upload = form.manifest.data
    try:
        job = services.check_upload(current_user, upload.filename or "manifest", upload.read(), form.folder.data)
    except ArchiveError as exc:
        return _home(form, error=error_text(exc), status=exc.status_code)
    return redirect(url_for(".job", job_id=job.id))


@bp.get("/<int:job_id>")
@login_required
def job(job_id: int):
    job = services.get_job(current_user, job_id)
    response = make_response(render_template("imports/job.html", job=job, form=StartForm()))
    if job.state in (JobState.QUEUED, JobState.RUNNING):  # the page follows the worker until it is done
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@bp.post("/<int:job_id>/start")
@login_required
def start(job_id: int):
    form = StartForm()
    if not form.validate():
        return redirect(url_for(".job", job_id=job_id))
    try:
        services.start_job(current_user, job_id)
    except ArchiveError as exc:
        flash(error_text(exc), "error")
    return redirect(url_for(".job", job_id=job_id))


@bp.get("/<int:job_id>/status")
@login_required
def status(job_id: int):
    job = services.get_job(current_user, job_id)
    return jsonify(state=job.state.value, label=job.state.label, total=job.total, filed=job.filed,
                   skipped=job.skipped, failed=job.failed, percent=job.percent, finished=job.state.finished)

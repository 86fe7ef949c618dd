"""The import page: an archivist checks a manifest against a folder on the server, starts the import on the
worker (run at once here: QUEUE_IMMEDIATE) and follows its progress."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from archive.core.enums import Level, Role
from archive.core.types import utcnow
from archive.documents.models import Document
from archive.extensions import db
from archive.imports import services
from archive.imports.models import ImportJob, JobState
from tests.factories import csrf_token, login_in_english, make_pdf
from tests.imports.conftest import csv_manifest, three_rows, three_scans, write_files


def _post_manifest(client, manifest: bytes, folder: str = "2019-scans", name: str = "清单.csv"):
    return client.post("/imports/", data={
        "csrf_token": csrf_token(client, "/imports/"), "folder": folder,
        "manifest": (io.BytesIO(manifest), name),
    }, content_type="multipart/form-data")


def _job() -> ImportJob:
    db.session.expire_all()
    return db.session.scalars(sa.select(ImportJob).order_by(ImportJob.id.desc())).first()


def test_an_archivist_checks_starts_and_follows_an_import(app, client, factory, unit_dossier, scans):
    app.config["QUEUE_IMMEDIATE"] = True  # before anything is queued: the worker's task runs in the request
    write_files(scans, three_scans())
    archivist = factory.user("ada", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.B)
    login_in_english(client, factory, archivist)

    home = client.get("/imports/").get_data(as_text=True)
    assert '<option value="2019-scans">2019-scans</option>' in home

    # A manifest with a problem: listed with its row, and the job cannot be started.
    bad = three_rows()
    bad[1][0] = "contracts/../../../etc/passwd"
    response = _post_manifest(client, csv_manifest(bad))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"<td>3</td><td>The path contracts/\.\./\.\./\.\./etc/passwd leaves the import folder\.</td>", page)
    assert "Nothing was filed." in page and "Start the import" not in page
    invalid = _job()
    assert invalid.state is JobState.INVALID
    refused = client.post(f"/imports/{invalid.id}/start", data={"csrf_token": csrf_token(client, "/imports/")})
    assert "This import cannot be started now (Problems found)." in client.get(refused.headers["Location"]).get_data(as_text=True)

    # The corrected manifest: checked, then started; the task files all three.
    response = _post_manifest(client, csv_manifest(three_rows()))
    job = _job()
    assert job.state is JobState.CHECKED and job.total == 3
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "Start the import" in page
    assert client.post(f"/imports/{job.id}/start").status_code == 400  # no CSRF token: refused
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0

    started = client.post(f"/imports/{job.id}/start", data={"csrf_token": csrf_token(client, f"/imports/{job.id}")})
    assert started.status_code == 302
    status = client.get(f"/imports/{job.id}/status").get_json()
    assert status == {"state": "done", "label": "Done", "total": 3, "filed": 3, "skipped": 0, "failed": 0,
                      "percent": 100, "finished": True}
    titles = db.session.scalars(sa.select(Document.title).order_by(Document.id)).all()
    assert titles == ["认购书（欧阳明）", "房地产买卖合同", "入伙通知书"]
    assert db.session.scalars(sa.select(Document.created_by_id)).all() == [archivist.id] * 3

    # The same manifest again: every file is recognised as already there.
    _post_manifest(client, csv_manifest(three_rows()))
    again = _job()
    client.post(f"/imports/{again.id}/start", data={"csrf_token": csrf_token(client, f"/imports/{again.id}")})
    assert client.get(f"/imports/{again.id}/status").get_json()["skipped"] == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 3


def test_a_running_import_page_refreshes_itself(app, client, factory, unit_dossier, scans):
    """Queued for a worker that has not run it yet: the page shows the progress and asks to be reloaded."""
    write_files(scans, {"a.pdf": make_pdf("认购书")})
    row = ["a.pdf", "LJY", "03", "2-1502", "XS", "认购书", "2019-03-02", "C", "SALES", "", "", "", ""]
    archivist = factory.user("ada", roles=(Role.ARCHIVIST,), department="GMO")
    login_in_english(client, factory, archivist)
    _post_manifest(client, csv_manifest([row]))
    job = _job()
    client.post(f"/imports/{job.id}/start", data={"csrf_token": csrf_token(client, f"/imports/{job.id}")})

    page = client.get(f"/imports/{job.id}")
    assert _job().state is JobState.QUEUED
    assert page.headers["Refresh"] == "2"
    assert '<progress max="100" value="0">' in page.get_data(as_text=True)
    assert "Refresh" not in client.get("/imports/").headers


def test_an_import_whose_worker_stopped_is_started_again_after_a_quarter_of_an_hour(app, client, factory,
                                                                                  unit_dossier, scans):
    """Queued, and its worker is gone (no worker runs here): it may be started again once it has not moved for
    fifteen minutes, not before (two workers on one import)."""
    write_files(scans, {"a.pdf": make_pdf("认购书")})
    row = ["a.pdf", "LJY", "03", "2-1502", "XS", "认购书", "2019-03-02", "C", "SALES", "", "", "", ""]
    login_in_english(client, factory, factory.user("ada", roles=(Role.ARCHIVIST,), department="GMO"))
    _post_manifest(client, csv_manifest([row]))
    job = _job()
    client.post(f"/imports/{job.id}/start", data={"csrf_token": csrf_token(client, f"/imports/{job.id}")})
    token = csrf_token(client, "/imports/")

    too_soon = client.post(f"/imports/{job.id}/start", data={"csrf_token": token}, follow_redirects=True)
    assert "This import cannot be started now (Waiting for the worker)" in too_soon.get_data(as_text=True)
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        page = client.get(f"/imports/{job.id}").get_data(as_text=True)
        assert "its worker has stopped" in page and "Start again" in page
        restarted = client.post(f"/imports/{job.id}/start", data={"csrf_token": token})
        assert restarted.status_code == 302 and not _job().stalled  # queued afresh
    services.run_job(job.id)  # what the next worker does with the task
    assert _job().state is JobState.DONE and _job().filed == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1


def test_who_sees_the_import_page_and_its_jobs(app, client, factory, unit_dossier, scans):
    write_files(scans, {"a.pdf": make_pdf("认购书")})
    row = ["a.pdf", "LJY", "03", "2-1502", "XS", "认购书", "2019-03-02", "C", "SALES", "", "", "", ""]
    ada = factory.user("ada", roles=(Role.ARCHIVIST,), department="GMO")
    login_in_english(client, factory, ada)

    outside = _post_manifest(client, csv_manifest([row]), folder="..")
    assert outside.status_code == 400  # a folder the page does not offer
    assert "Not a valid choice." in outside.get_data(as_text=True)
    _post_manifest(client, csv_manifest([row]))
    job = _job()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    bob = factory.user("bob", roles=(Role.ARCHIVIST,), department="GMO")
    login_in_english(client, factory, bob)
    assert client.get(f"/imports/{job.id}").status_code == 404  # another's import names files and titles
    assert client.get(f"/imports/{job.id}/status").status_code == 404
    assert client.post(f"/imports/{job.id}/start", data={"csrf_token": csrf_token(client, "/imports/")}).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    clerk = factory.user("carl", roles=(Role.CLERK,), department="SALES")
    login_in_english(client, factory, clerk)
    assert client.get("/imports/").status_code == 403  # the page is the archive's; clerks use their dossiers
    assert "/imports/" not in client.get("/account").get_data(as_text=True)


def test_the_worker_refuses_an_import_whose_starter_was_disabled(app, client, factory, unit_dossier, scans):
    """The worker files as the person who started the import, checked again when it runs."""
    from archive.auth import services as auth
    from archive.imports import services

    write_files(scans, {"a.pdf": make_pdf("认购书")})
    row = ["a.pdf", "LJY", "03", "2-1502", "XS", "认购书", "2019-03-02", "C", "SALES", "", "", "", ""]
    ada = factory.user("ada", roles=(Role.ARCHIVIST,), department="GMO")
    login_in_english(client, factory, ada)
    _post_manifest(client, csv_manifest([row]))
    job = _job()
    client.post(f"/imports/{job.id}/start", data={"csrf_token": csrf_token(client, f"/imports/{job.id}")})
    admin = factory.user("root", roles=(Role.ADMIN,), department="GMO")
    auth.set_active(admin, "ada", False)

    services.run_job(job.id)  # what the worker does with the queued task

    job = _job()
    assert job.state is JobState.FAILED
    assert job.problems == [{"row": 0, "message": "You may not import documents.", "details": {}}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0

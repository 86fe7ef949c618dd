"""The periodic fixity run: batch size from the cycle, oldest check first, alerts and notifications, the page."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from archive.core.enums import Level, Role
from archive.core.keys import blob_store
from archive.core.types import utcnow
from archive.documents.models import FileVersion
from archive.extensions import db
from archive.integrity import fixity, services
from archive.integrity.models import AlertStatus, FixityRun, IntegrityAlert
from archive.notifications.models import Notification
from tests.factories import csrf_token, flip_a_byte


def versions() -> list[FileVersion]:
    return list(db.session.scalars(sa.select(FileVersion).order_by(FileVersion.id)))


@pytest.fixture
def filed(factory):
    """Five files the fixity runs have not reached yet: as filed before the archive checked at filing."""
    dossier = factory.dossier()
    documents = [factory.document(dossier, title=f"认购书 {n}") for n in range(5)]
    db.session.execute(sa.update(FileVersion).values(last_fixity_at=None, last_fixity_ok=None))
    db.session.commit()
    return documents


def test_batch_size_follows_from_the_archive_size_and_the_cycle(app):
    app.config["FIXITY_CYCLE_DAYS"] = 30  # 720 hourly runs per cycle
    assert fixity.batch_size(0) == 0
    assert fixity.batch_size(1) == 1
    assert fixity.batch_size(720) == 1
    assert fixity.batch_size(721) == 2
    assert fixity.batch_size(100_000) == 139
    app.config["FIXITY_CYCLE_DAYS"] = 1
    assert fixity.batch_size(48) == 2


def test_a_run_checks_never_checked_files_first_then_the_oldest(app, filed):
    app.config["FIXITY_CYCLE_DAYS"] = 1  # 24 runs a day: 5 files and 5 texts -> one of each kind per run
    rows = versions()
    now = utcnow()
    # rows[0] was checked long ago, rows[1] recently, the others never.
    rows[0].last_fixity_at, rows[0].last_fixity_ok = now - timedelta(days=20), True
    rows[1].last_fixity_at, rows[1].last_fixity_ok = now - timedelta(hours=1), True
    db.session.commit()
    order = []
    for _ in range(5):
        before = {v.id: v.last_fixity_at for v in versions()}
        run = fixity.run_fixity()
        assert run.failed == 0 and run.finished_at is not None
        db.session.expire_all()
        changed = [v.id for v in versions() if v.last_fixity_at != before[v.id]]
        assert len(changed) == 1
        order.append(changed[0])
    assert order == [rows[2].id, rows[3].id, rows[4].id, rows[0].id, rows[1].id]
    assert all(v.last_fixity_ok for v in versions())
    runs = db.session.scalars(sa.select(FixityRun)).all()
    assert len(runs) == 5 and all(run.bytes_checked > 0 for run in runs)


def test_texts_receipts_and_letters_go_round_robin_from_where_the_last_run_stopped(app, filed):
    app.config["FIXITY_CYCLE_DAYS"] = 1
    cursors = [fixity.run_fixity().cursor["text"] for _ in range(6)]
    text_keys = sorted(v.id for v in versions())  # one text per file version, keyed by the version id
    assert cursors == [*text_keys, text_keys[0]]  # the sixth run wraps round to the first text


def test_a_corrupted_blob_raises_exactly_one_alert_and_one_notification(app, factory, filed):
    head = factory.user("head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    other_head = factory.user("head2", roles=(Role.ARCHIVE_HEAD,), department="GMO")
    clerk = factory.user("clerk", roles=(Role.CLERK,))
    damaged = versions()[2]
    flip_a_byte(damaged.blob_id)

    first = fixity.run_fixity(batch=100)
    second = fixity.run_fixity(batch=100)  # still damaged: the open alert is not raised again

    assert first.failed == 1 and second.failed == 1
    alerts = db.session.scalars(sa.select(IntegrityAlert)).all()
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.blob_id, alert.problem) == ("file", damaged.blob_id, "ciphertext checksum mismatch")
    assert alert.subject == f"{damaged.document.archive_number} v1" and alert.status is AlertStatus.OPEN
    db.session.refresh(damaged)
    assert damaged.last_fixity_ok is False
    notified = db.session.scalars(sa.select(Notification).where(Notification.kind == "integrity.alert")).all()
    assert sorted(n.user_id for n in notified) == sorted([head.id, other_head.id])
    assert all(n.params == {"count": 1} and n.link == "/integrity/" for n in notified)
    assert clerk.id not in {n.user_id for n in notified}
    assert services.open_alerts() == [alert]


def test_a_missing_text_blob_is_found_and_named(app, filed):
    from archive.search.models import ExtractedText

    text = db.session.scalars(sa.select(ExtractedText).where(ExtractedText.blob_id.is_not(None))).first()
    blob_store().delete(text.blob_id)
    run = fixity.run_fixity(batch=100)
    assert run.failed == 1
    (alert,) = services.open_alerts()
    assert (alert.kind, alert.problem, alert.document_id) == ("text", "missing", text.document_id)


def test_the_archive_head_sees_and_acknowledges_alerts_with_a_note(app, client, factory, filed):
    head = factory.user("head", roles=(Role.ARCHIVE_HEAD,), department="GMO")
    flip_a_byte(versions()[0].blob_id)
    fixity.run_fixity(batch=100)
    alert_id = services.open_alerts()[0].id
    factory.login(client, head)

    page = client.get("/integrity/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Integrity alerts" in html or "完整性告警" in html
    assert versions()[0].document.archive_number in html

    token = csrf_token(client, "/integrity/")
    refused = client.post(f"/integrity/alerts/{alert_id}/acknowledge", data={"note": "  ", "csrf_token": token})
    assert refused.status_code == 400
    assert db.session.get(IntegrityAlert, alert_id).status is AlertStatus.OPEN

    no_token = client.post(f"/integrity/alerts/{alert_id}/acknowledge", data={"note": "已从备份恢复"})
    assert no_token.status_code == 400

    done = client.post(f"/integrity/alerts/{alert_id}/acknowledge",
                       data={"note": "已从备份恢复", "csrf_token": token})
    assert done.status_code == 302
    db.session.expire_all()
    alert = db.session.get(IntegrityAlert, alert_id)
    assert alert.status is AlertStatus.ACKNOWLEDGED and alert.note == "已从备份恢复"
    assert alert.acknowledged_by_id == head.id
    assert services.open_alerts() == []

    again = client.post(f"/integrity/alerts/{alert_id}/acknowledge", data={"note": "再次", "csrf_token": token})
    assert again.status_code == 409


def test_compliance_reads_the_page_but_cannot_acknowledge_and_others_cannot_see_it(app, client, factory, filed):
    compliance = factory.user("auditor", roles=(Role.COMPLIANCE,), department="GMO")
    archivist = factory.user("keeper", roles=(Role.ARCHIVIST,), department="GMO")
    flip_a_byte(versions()[0].blob_id)
    fixity.run_fixity(batch=100)
    alert_id = services.open_alerts()[0].id

    factory.login(client, compliance)
    page = client.get("/integrity/").get_data(as_text=True)
    assert versions()[0].document.archive_number in page
    assert f"/integrity/alerts/{alert_id}/acknowledge" not in page
    token = csrf_token(client, "/integrity/")
    denied = client.post(f"/integrity/alerts/{alert_id}/acknowledge", data={"note": "看过", "csrf_token": token})
    assert denied.status_code == 404
    assert db.session.get(IntegrityAlert, alert_id).status is AlertStatus.OPEN

    client.post("/logout", data={"csrf_token": token})
    factory.login(client, archivist)
    assert client.get("/integrity/").status_code == 403


def test_coverage_counts_the_files_checked_within_the_cycle(app, filed):
    rows = versions()
    now = utcnow()
    rows[0].last_fixity_at = now - timedelta(days=45)
    rows[1].last_fixity_at = now - timedelta(days=2)
    db.session.commit()
    covered = services.coverage()
    assert (covered.files, covered.checked_in_cycle, covered.never_checked) == (5, 1, 3)
    assert covered.oldest_check == rows[0].last_fixity_at
    assert covered.percent == 20.0


def test_the_fixity_command_runs_a_batch_and_fails_on_damage(app, runner, filed):
    ok = runner.invoke(args=["fixity", "run", "--batch", "3"])
    assert ok.exit_code == 0, ok.output
    assert "6 blobs checked" in ok.output  # 3 files and their 3 texts; no receipts or letters yet
    flip_a_byte(versions()[4].blob_id)
    bad = runner.invoke(args=["fixity", "run", "--batch", "10"])
    assert bad.exit_code == 1 and "1 failed" in bad.output

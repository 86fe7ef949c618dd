"""`archive check --all` and `archive verify --repair`."""
from __future__ import annotations

import io
import json
import os
import time

import sqlalchemy as sa
from pypdf import PdfReader

from archive.core.keys import blob_store
from archive.documents.models import FileVersion
from archive.extensions import db
from archive.integrity.models import CheckContext, IntegrityCheck
from tests.audit.test_chain import unguarded_audit_table  # noqa: F401  (a fixture)
from tests.factories import flip_a_byte


def test_check_all_passes_on_a_sound_archive_and_writes_both_reports(app, runner, factory, tmp_path):
    dossier = factory.dossier()
    docs = [factory.document(dossier, title="房地产买卖合同"), factory.document(dossier, title="入伙通知书")]
    result = runner.invoke(args=["check", "--all", "--report", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "documents: 2 checked, 0 failed" in result.output and "chain intact" in result.output

    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] is True and report["documents_checked"] == 2 and report["audit_break"] is None
    assert report["blobs_checked"] == 2 and report["blob_problems"] == []
    checks = db.session.scalars(sa.select(IntegrityCheck)).all()
    for context in (CheckContext.FILING, CheckContext.PERIODIC):  # checked when filed, and now again
        assert sorted(c.document_id for c in checks if c.context is context) == sorted(d.id for d in docs)
    assert all(c.ok for c in checks) and len(checks) == 4

    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "out" / "report.pdf").pages)
    assert "档案四性检测报告" in text and "通过 Passed" in text and "完整 intact" in text


def test_check_all_fails_naming_the_damaged_document_and_a_broken_audit_chain(app, runner, factory, tmp_path,
                                                                             unguarded_audit_table):
    dossier = factory.dossier()
    sound = factory.document(dossier, title="认购书")
    damaged = factory.document(dossier, title="补充协议")
    flip_a_byte(damaged.current_version.blob_id)
    db.session.execute(sa.text("UPDATE audit_events SET action = 'document.view' WHERE seq = 3"))
    db.session.commit()

    result = runner.invoke(args=["check", "--all", "--report", str(tmp_path)])
    assert result.exit_code == 1
    assert f"document {damaged.archive_number} v1: failed authenticity" in result.output
    assert "BROKEN at event 3" in result.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] is False
    (failure,) = report["document_failures"]
    assert failure["archive_number"] == damaged.archive_number and "authenticity" in failure["failed"]
    assert sound.archive_number not in json.dumps(report["document_failures"])
    assert len(report["blob_problems"]) == 1 and damaged.current_version.blob_id in report["blob_problems"][0]

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO((tmp_path / "report.pdf").read_bytes())).pages)
    assert "未通过 Failed" in text and damaged.archive_number in text
    assert "真实性" in text and damaged.current_version.cipher_sha256[:16] in text.replace("\n", "")


def _age(blob_id: str, seconds: float) -> None:
    path = blob_store().backend.path_for(blob_id)
    past = time.time() - seconds
    os.utime(path, (past, past))


def _orphan(content: bytes = b"left by a crash") -> str:
    return blob_store().put(io.BytesIO(content)).blob_id


def test_repair_deletes_old_orphans_keeps_young_ones_and_reports_missing_files(app, runner, factory):
    app.config["ORPHAN_GRACE_SECONDS"] = 3600
    dossier = factory.dossier()
    doc = factory.document(dossier)
    old, young = _orphan(), _orphan()
    _age(old, 7200)
    _age(young, 60)
    store = blob_store()

    result = runner.invoke(args=["verify", "--repair", "--no-index"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 orphaned blobs" in result.output and "kept 1 orphaned blobs younger" in result.output
    assert not store.exists(old) and store.exists(young)
    assert store.exists(doc.current_version.blob_id)  # referenced blobs are never touched

    store.delete(doc.current_version.blob_id)  # a row without its blob cannot be repaired: a failure
    missing = runner.invoke(args=["verify", "--repair", "--no-index"])
    assert missing.exit_code == 1
    assert "1 failed blobs cannot be repaired" in missing.output
    events = db.session.execute(sa.text("SELECT details FROM audit_events WHERE action = 'verify.repair'")).all()
    assert len(events) == 2 and json.loads(events[0][0])["orphans_deleted"] == 1


def test_repair_with_no_grace_deletes_every_orphan(app, runner, factory):
    app.config["ORPHAN_GRACE_SECONDS"] = 0
    young = _orphan()
    result = runner.invoke(args=["verify", "--repair", "--no-index", "--no-audit"])
    assert result.exit_code == 0 and not blob_store().exists(young)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FileVersion)) == 0

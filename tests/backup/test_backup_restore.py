"""Online backup, restore into an empty instance, restore drill; on SQLite and (scripts/test) PostgreSQL."""
from __future__ import annotations

import base64
import json
import tempfile
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from archive.backup import services
from archive.backup.models import BackupRun, RunKind
from archive.core.keys import blob_store
from archive.documents.models import Document
from archive.extensions import db
from archive.setup import startup_checks
from tests.conftest import TEST_MASTER_KEY, make_app
from tests.factories import Factory, make_pdf

from tests.backup.conftest import empty_instance

CONTRACT = ("房地产买卖合同", "买受人张伟购买丽景苑住宅", "逾期交房违约金按日计算")


def _file_contracts(factory, count: int, start: int = 0) -> list[Document]:
    dossier = factory.dossier(unit=f"2-{1500 + start}")
    return [factory.document(dossier, title=f"买卖合同{start + i}", content=make_pdf(*CONTRACT, f"合同编号HT-{start + i}"))
            for i in range(count)]


def _all_files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def test_online_backup_restores_into_an_empty_instance_verified_and_searchable(app, factory, target, tmp_path,
                                                                               monkeypatch):
    _file_contracts(factory, 3)
    reader = factory.archivist.username
    filed_during_backup, backup_done = [], threading.Event()

    def file_while_backing_up() -> None:  # another user keeps filing while the backup runs
        with app.app_context():
            other = Factory(app)
            dossier = other.dossier(unit="2-1601")
            while not backup_done.is_set() or not filed_during_backup:
                filed_during_backup.append(other.document(dossier, title="入伙通知书",
                                                          content=make_pdf("入伙通知书", "交房结算单")).id)
            db.session.remove()

    writer = threading.Thread(target=file_while_backing_up)
    writer.start()
    try:
        result = services.backup(tmp_path / "backups")
    finally:
        backup_done.set()
        writer.join()

    manifest = result.manifest
    assert manifest["counts"]["documents"] >= 3
    assert manifest["database"] == db.engine.dialect.name
    assert manifest["key_ids"] == [blob_store().keyring.current_key_id]
    # every blob the snapshot references is in the backup with its checksum: files and their extracted texts
    assert manifest["counts"]["blobs"] == 2 * manifest["counts"]["file_versions"]
    assert sum(name.startswith("blobs/") for name in manifest["files"]) == manifest["counts"]["blobs"]

    with target.app_context():
        def power_cut(*args):
            raise KeyboardInterrupt  # the machine stops once the database is loaded, before the files are in place
        monkeypatch.setattr(services, "_swap_in_blobs", power_cut)
        with pytest.raises(KeyboardInterrupt):
            services.restore(tmp_path / "backups")
        with pytest.raises(RuntimeError, match="restore into this instance did not finish"):
            startup_checks(target)  # a half-restored instance never passes for a complete one
        monkeypatch.undo()

        report = services.restore(tmp_path / "backups")  # run again over the interrupted one
        assert report.ok, report.problems
        startup_checks(target)
        assert {name: report.counts[name] for name in manifest["counts"]} == manifest["counts"]
        assert report.blobs_checked == manifest["counts"]["file_versions"]
        assert report.chain_intact
        assert report.indexed == manifest["counts"]["documents"]
        runner = target.test_cli_runner()
        verified = runner.invoke(args=["verify", "--decrypt"])
        assert verified.exit_code == 0, verified.output
        assert "chain intact" in verified.output and "0 failed" in verified.output
        found = runner.invoke(args=["search", "违约金", "--user", reader, "--json"])
        assert found.exit_code == 0, found.output
        assert json.loads(found.output)["total"] == 3  # the contracts, by words read from their PDFs
        restored = db.session.scalars(sa.select(BackupRun).where(BackupRun.kind == RunKind.RESTORE)).one()
        assert restored.ok and restored.documents == manifest["counts"]["documents"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) >= manifest["counts"]["documents"]


def test_second_backup_copies_only_new_blobs_and_no_backup_holds_the_master_key(app, factory, tmp_path):
    _file_contracts(factory, 2)
    first = services.backup(tmp_path / "backups")
    assert (first.copied_blobs, first.present_blobs) == (4, 0)  # two files, two extracted texts

    _file_contracts(factory, 1, start=10)
    second = services.backup(tmp_path / "backups")

    assert (second.copied_blobs, second.present_blobs) == (2, 4)
    assert second.snapshot != first.snapshot
    assert services.latest_snapshot(tmp_path / "backups") == second.snapshot
    key = base64.b64decode(TEST_MASTER_KEY)
    forms_of_the_key = [key, TEST_MASTER_KEY.encode(), base64.urlsafe_b64encode(key), key.hex().encode()]
    for path in _all_files(tmp_path / "backups"):
        content = path.read_bytes()
        assert not any(form in content for form in forms_of_the_key), path
    runs = db.session.scalars(sa.select(BackupRun).order_by(BackupRun.id)).all()
    assert [(run.kind, run.ok) for run in runs] == [(RunKind.BACKUP, True), (RunKind.BACKUP, True)]
    assert runs[1].copied_bytes < runs[1].size_bytes


def _nothing_written(target) -> None:
    assert sa.inspect(db.engine).get_table_names() == []
    storage = Path(target.config["STORAGE_DIR"])
    assert not storage.exists() or not [p for p in storage.rglob("*") if p.is_file()]


def test_restores_refused_before_anything_is_written(app, factory, database_url, tmp_path):
    (document,) = _file_contracts(factory, 1)
    backup = services.backup(tmp_path / "backups")
    db.session.commit()  # each command runs in a context of its own: SQLite's write lock must be free

    # into an instance that already holds an archive
    refused = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "backups")])
    assert refused.exit_code == 1
    assert "not empty (1 documents" in refused.output and "Nothing was restored" in refused.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1

    # with a master key that is not the backup's
    other_key = base64.b64encode(b"w" * 32).decode()
    with empty_instance(database_url, tmp_path / "target", MASTER_KEY=other_key) as target:
        with target.app_context():
            wrong = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "backups")])
            assert wrong.exit_code == 1
            assert "Wrong master key" in wrong.output and "Nothing was restored" in wrong.output
            assert f"needs the master key(s) {backup.manifest['key_ids'][0]}" in wrong.output
            _nothing_written(target)

        # from a backup one of whose files was damaged
        blob_id = document.versions[0].blob_id
        blob = tmp_path / "backups" / "blobs" / blob_id[:2] / blob_id[2:4] / blob_id
        data = bytearray(blob.read_bytes())
        data[100] ^= 1
        blob.write_bytes(bytes(data))
        with make_app(target.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "target" / "storage",
                      QUEUE_IMMEDIATE=True).app_context():
            with pytest.raises(services.BackupError, match=f"damaged: blobs/{blob_id[:2]}/{blob_id[2:4]}/{blob_id}"):
                services.restore(backup.snapshot)
            _nothing_written(target)
            db.engine.dispose()


def test_backup_with_drill_records_both_and_the_dashboard_panel_shows_them(app, factory, tmp_path):
    _file_contracts(factory, 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups"), "--drill"])

    assert result.exit_code == 0, result.output
    assert "Restore drill passed." in result.output
    good, drill = services.last_good_backup(), services.last_restore_drill()
    assert good.documents == 1 and good.blobs == 2
    assert drill.ok and drill.documents == 1 and drill.snapshot == good.snapshot
    assert not list(Path(tempfile.gettempdir()).glob("archive-drill-*"))  # the temporary instance is gone
    events = db.session.execute(sa.text("SELECT action FROM audit_events ORDER BY seq")).scalars().all()
    assert "backup.backup" in events and "backup.drill" in events

    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    with pytest.raises(services.BackupError):
        services.backup(tmp_path / "backups" / good.snapshot.rsplit("/", 1)[-1] / "manifest.json")  # not a folder
    with app.test_request_context(), force_locale("en"):
        html = render_template("backup/_status_panel.html", backup_status=services.status())
    assert "No backup destination is configured" not in html and "None yet" not in html
    assert "1 documents, 2 files" in html
    assert "passed: 1 documents restored and verified" in html
    assert "The last backup failed" in html


def test_a_drill_without_any_backup_fails_and_is_shown_as_failed(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["restore-drill", str(tmp_path)])

    assert result.exit_code == 1
    assert "no complete backup" in result.output
    drill = services.last_restore_drill()
    assert drill is not None and not drill.ok and "no complete backup" in drill.error

"""The four-property checks (四性检测) on real encrypted files: a clean document passes all four; each kind of
damage or gap fails the property it belongs to, with a clear finding; every run is stored and audited."""
from __future__ import annotations

import io
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, PngImagePlugin

from archive.audit.models import AuditEvent
from archive.core.enums import Category, Level, Role
from archive.core.errors import ValidationError
from archive.core.keys import blob_store
from archive.core.uow import unit_of_work
from archive.documents.models import Document, FileVersion, NumberSequence
from archive.extensions import db
from archive.integrity.checks import PROPERTIES, four_property_check
from archive.integrity.models import CheckContext, IntegrityCheck
from tests.factories import make_image, make_pdf

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def failing(outcome) -> set[str]:
    return {name for name in PROPERTIES if not outcome.results[name]["ok"]}


def messages(outcome, prop: str) -> list[str]:
    """The findings of one property as the UI shows them (untranslated English here)."""
    return [finding["message"] % finding["params"] for finding in outcome.results[prop]["findings"]]


def messages_of(items) -> list[str]:
    return [item["message"] % item["params"] for item in items]


def sql(statement: str, **params) -> None:
    db.session.execute(sa.text(statement), params)
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def checks_archivist(factory):
    return factory.user("checker", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)


@pytest.fixture
def checks_dossier(factory):
    return factory.dossier(factory.project("LJY", "丽景苑"))


def test_a_clean_document_passes_all_four_and_the_run_is_kept_and_audited(factory, checks_dossier, checks_archivist):
    doc = factory.document(checks_dossier, title="房地产买卖合同", category=Category.QY, department="CA",
                           content=make_pdf("房地产买卖合同", "买受人 张三", pages=3), filename="合同.pdf")

    outcome = four_property_check(doc, context=CheckContext.HANDOVER, actor=checks_archivist)

    assert outcome.ok and outcome.failures == []
    assert failing(outcome) == set()
    json.dumps(outcome.results)  # stored as JSON as it is
    check = db.session.get(IntegrityCheck, outcome.check_id)
    assert (check.document_id, check.file_version_id, check.context, check.ok, check.checked_by_id) == (
        doc.id, doc.current_version.id, CheckContext.HANDOVER, True, checks_archivist.id)
    assert check.results == outcome.results
    security_notes = messages_of(outcome.results["security"]["notes"])
    assert "This check run is recorded and audited." in security_notes
    assert any(note.startswith("Access is controlled") for note in security_notes)
    if not (shutil.which("clamscan") or shutil.which("clamdscan")):
        assert "No virus scanner (clamscan or clamdscan) is installed; the file was not scanned." in security_notes
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "integrity.check")).one()
    assert (event.actor_id, event.object_type, event.object_id) == (checks_archivist.id, "document", str(doc.id))
    details = json.loads(event.details)
    assert details == {"archive_number": doc.archive_number, "check": check.id, "context": "handover",
                       "failed": [], "ok": True, "version": 1}
    assert doc.current_version.last_fixity_ok is True


@pytest.mark.parametrize("fmt, media_type, filename", [("PNG", "image/png", "户型图.png"),
                                                       ("TIFF", "image/tiff", "扫描件.tif")])
def test_clean_images_open_and_render(factory, checks_dossier, fmt, media_type, filename):
    doc = factory.document(checks_dossier, title="身份证复印件", content=make_image(fmt, frames=2 if fmt == "TIFF" else 1),
                           filename=filename)
    assert doc.current_version.media_type == media_type

    outcome = four_property_check(doc, context=CheckContext.FILING)

    assert outcome.ok, outcome.failures
    # Without an actor the run is the system's.
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "integrity.check")).one()
    assert event.actor_id is None and db.session.get(IntegrityCheck, outcome.check_id).checked_by_id is None


def test_a_changed_recorded_checksum_fails_authenticity(factory, checks_dossier):
    doc = factory.document(checks_dossier)
    recorded = "0" * 64
    sql("UPDATE file_versions SET cipher_sha256 = :sha WHERE document_id = :id", sha=recorded, id=doc.id)

    outcome = four_property_check(doc, context=CheckContext.PERIODIC)

    assert not outcome.ok and failing(outcome) == {"authenticity"}
    assert messages(outcome, "authenticity") == [
        f"The stored file of version 1 does not match the checksum recorded at filing (SHA-256 {recorded})."]
    assert outcome.failures == [("authenticity", outcome.results["authenticity"]["findings"][0])]
    assert db.session.get(FileVersion, doc.current_version.id).last_fixity_ok is False
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "integrity.check")).one()
    assert json.loads(event.details)["failed"] == ["authenticity"] and json.loads(event.details)["ok"] is False


def test_a_changed_plaintext_checksum_fails_authenticity(factory, checks_dossier):
    doc = factory.document(checks_dossier)
    sql("UPDATE file_versions SET plain_sha256 = :sha WHERE document_id = :id", sha="f" * 64, id=doc.id)

    outcome = four_property_check(doc, context=CheckContext.PERIODIC)

    assert failing(outcome) == {"authenticity"}
    assert messages(outcome, "authenticity") == [
        f"The decrypted content of version 1 does not match the checksum recorded at filing (SHA-256 {'f' * 64})."]


def test_truncated_ciphertext_on_disk_fails_authenticity_and_usability(factory, checks_dossier):
    doc = factory.document(checks_dossier)
    version = doc.current_version
    path = Path(blob_store().backend.path_for(version.blob_id))
    os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)
    os.truncate(path, version.cipher_size - 100)

    outcome = four_property_check(doc, context=CheckContext.PERIODIC)

    assert failing(outcome) == {"authenticity", "usability"}
    assert messages(outcome, "authenticity") == [
        "The stored file of version 1 does not match the checksum recorded at filing "
        f"(SHA-256 {version.cipher_sha256})."]
    assert messages(outcome, "usability") == ["Version 1 cannot be opened: its stored content cannot be decrypted."]


def test_a_png_recorded_as_pdf_fails_authenticity(factory, checks_dossier):
    doc = factory.document(checks_dossier, title="户型图", content=make_image("PNG"), filename="户型图.png")
    sql("UPDATE file_versions SET media_type = 'application/pdf' WHERE document_id = :id", id=doc.id)

    outcome = four_property_check(doc, context=CheckContext.HANDOVER)

    assert failing(outcome) == {"authenticity"}
    assert messages(outcome, "authenticity") == [
        "Version 1 is recorded as application/pdf, but its content is image/png."]


def test_a_file_name_that_contradicts_the_content_fails_authenticity(factory, checks_dossier):
    doc = factory.document(checks_dossier, content=make_image("JPEG"), filename="认购书.pdf")

    outcome = four_property_check(doc, context=CheckContext.FILING)

    assert failing(outcome) == {"authenticity"}
    assert messages(outcome, "authenticity") == ["The file name 认购书.pdf does not fit its content (image/jpeg)."]


def test_a_password_protected_pdf_fails_usability(factory, checks_dossier):
    doc = factory.document(checks_dossier)
    locked = make_pdf("认购书", encrypt_with="secret")
    # Upload refuses a protected PDF, so the blob is written directly and made the current version.
    sealed = blob_store().put(io.BytesIO(locked))
    with unit_of_work():
        version = FileVersion(
            document_id=doc.id, version=2, filename="加密.pdf", media_type="application/pdf", page_count=1,
            blob_id=sealed.blob_id, key_id=sealed.key_id, wrapped_key=sealed.wrapped_key,
            plain_size=sealed.plain_size, plain_sha256=sealed.plain_sha256, cipher_size=sealed.cipher_size,
            cipher_sha256=sealed.cipher_sha256,
        )
        db.session.add(version)
    db.session.expire_all()
    assert doc.current_version.version == 2

    outcome = four_property_check(doc, context=CheckContext.HANDOVER)

    assert failing(outcome) == {"usability"}
    assert messages(outcome, "usability") == [
        "加密.pdf: the PDF is encrypted or password-protected; file an unprotected copy."]
    assert db.session.get(IntegrityCheck, outcome.check_id).file_version_id == version.id
    # The first version, checked on its own, is still fine.
    assert four_property_check(doc, context=CheckContext.HANDOVER, version=doc.versions[1]).ok


def test_blank_metadata_fails_integrity(factory, checks_dossier):
    doc = factory.document(checks_dossier)
    sql("UPDATE documents SET title = '', responsible_party = '  ', page_count = 0 WHERE id = :id", id=doc.id)

    outcome = four_property_check(doc, context=CheckContext.PERIODIC)

    assert failing(outcome) == {"integrity"}
    assert messages(outcome, "integrity") == [
        "The title is missing.", "The responsible party is missing.",
        "The page count of an electronic document must be more than 0."]


def test_a_gap_in_the_sequence_fails_integrity_and_a_moved_number_fails_authenticity(factory, checks_dossier):
    first, second, third = (factory.document(checks_dossier, title=f"补充协议{i}", category=Category.QY,
                                             department="CA") for i in (1, 2, 3))
    assert [d.seq for d in (first, second, third)] == [1, 2, 3]
    sql("UPDATE documents SET seq = 6 WHERE id = :id", id=second.id)

    outcome = four_property_check(first, context=CheckContext.PERIODIC)

    assert failing(outcome) == {"integrity"}
    assert messages(outcome, "integrity") == [
        f"The QY sequence of dossier {checks_dossier.archive_number} has gaps: number(s) 2, 4, 5 are missing."]

    moved = four_property_check(second, context=CheckContext.PERIODIC)
    assert failing(moved) == {"authenticity", "integrity"}
    assert messages(moved, "authenticity") == [
        f"The archive number {second.archive_number} does not follow the numbering rule: its dossier, category "
        f"and sequence number give {checks_dossier.archive_number}-QY-0006."]


def test_a_number_taken_by_the_counter_but_held_by_no_document_is_a_gap(factory, checks_dossier):
    doc = factory.document(checks_dossier)
    key = f"document:{checks_dossier.archive_number}:XS"
    assert db.session.get(NumberSequence, key).last_value == 1
    sql("UPDATE number_sequences SET last_value = 2 WHERE key = :key", key=key)

    outcome = four_property_check(doc, context=CheckContext.PERIODIC)

    assert messages(outcome, "integrity") == [
        f"The XS sequence of dossier {checks_dossier.archive_number} has gaps: number(s) 2 are missing."]


def test_a_duplicate_archive_number_fails_authenticity_of_both(factory, checks_dossier):
    first = factory.document(checks_dossier, title="认购书")
    second = factory.document(checks_dossier, title="排号协议")
    duplicate = first.archive_number.lower() + " "
    sql("UPDATE documents SET archive_number = :number WHERE id = :id", number=duplicate, id=second.id)

    original = four_property_check(first, context=CheckContext.PERIODIC)
    assert failing(original) == {"authenticity"}
    assert messages(original, "authenticity") == [
        f"The archive number {first.archive_number} is not unique: 1 other document(s) have the same number."]

    copy = four_property_check(second, context=CheckContext.PERIODIC)
    assert failing(copy) == {"authenticity"}
    assert messages(copy, "authenticity")[1] == (
        f"The archive number {duplicate} is not unique: 1 other document(s) have the same number.")


def test_inside_a_unit_of_work_the_run_commits_or_rolls_back_with_it(factory, checks_dossier, checks_archivist):
    doc = factory.document(checks_dossier)

    with pytest.raises(RuntimeError):
        with unit_of_work() as uow:
            four_property_check(doc, context=CheckContext.HANDOVER, actor=checks_archivist, uow=uow)
            raise RuntimeError("the handover step failed")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntegrityCheck)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "integrity.check")) == 0

    with unit_of_work() as uow:
        outcome = four_property_check(doc, context=CheckContext.HANDOVER, actor=checks_archivist, uow=uow)
    assert db.session.get(IntegrityCheck, outcome.check_id).ok is True
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "integrity.check")) == 1


# Virus scanning: ClamAV is not installed here, so these tests put small stand-ins for its command-line
# programs on PATH that behave as they do: read the file on stdin, exit 0 (clean), 1 (found, "stdin: <name>
# FOUND") or 2 (error). The stand-in clamscan "detects" the EICAR test string, as ClamAV does.
FAKE_CLAMSCAN = """#!/bin/sh
if grep -a -q 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE'; then echo "stdin: Eicar-Test-Signature FOUND"; exit 1; fi
exit 0
"""
FAKE_CLAMDSCAN_WITHOUT_DAEMON = """#!/bin/sh
cat >/dev/null
echo "ERROR: Could not connect to clamd on LocalSocket /var/run/clamav/clamd.ctl: No such file or directory" >&2
exit 2
"""


@pytest.fixture
def stand_in_scanners(tmp_path, monkeypatch):
    def install(**programs: str) -> None:
        directory = tmp_path / "scanners"
        directory.mkdir()
        for name, script in programs.items():
            (directory / name).write_text(script)
            (directory / name).chmod(0o755)
        monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")

    return install


def png_with_comment(comment: bytes) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", comment.decode("ascii"))
    out = io.BytesIO()
    Image.new("RGB", (120, 160), "white").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_an_infected_file_fails_security(factory, checks_dossier, stand_in_scanners):
    stand_in_scanners(clamscan=FAKE_CLAMSCAN, clamdscan=FAKE_CLAMDSCAN_WITHOUT_DAEMON)
    infected = factory.document(checks_dossier, title="来历不明的扫描件", content=png_with_comment(EICAR),
                                filename="扫描件.png")
    clean = factory.document(checks_dossier, title="认购书")

    outcome = four_property_check(infected, context=CheckContext.HANDOVER)

    assert failing(outcome) == {"security"}
    assert messages(outcome, "security") == ["The virus scanner clamscan found Eicar-Test-Signature."]
    passed = four_property_check(clean, context=CheckContext.HANDOVER)
    assert passed.ok
    assert messages_of(passed.results["security"]["notes"])[0] == "Scanned for viruses by clamscan: nothing found."


def test_a_scanner_that_cannot_run_fails_security(factory, checks_dossier, stand_in_scanners):
    stand_in_scanners(clamdscan=FAKE_CLAMDSCAN_WITHOUT_DAEMON)
    doc = factory.document(checks_dossier)

    outcome = four_property_check(doc, context=CheckContext.PERIODIC)

    assert failing(outcome) == {"security"}
    assert messages(outcome, "security") == [
        "The virus scan failed: clamdscan: ERROR: Could not connect to clamd on LocalSocket "
        "/var/run/clamav/clamd.ctl: No such file or directory"]


def test_a_document_without_a_file_cannot_be_checked(factory, checks_dossier):
    doc = Document(archive_number="X", title="无文件")
    with pytest.raises(ValidationError):
        four_property_check(doc, context=CheckContext.PERIODIC)

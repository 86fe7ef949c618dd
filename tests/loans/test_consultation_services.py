"""Outside parties (court, police, procuratorate) consult on a formal letter, registered by the archive;
they never borrow. Their officers' ID numbers are sealed, the letter scan is encrypted."""
from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Level, Role
from archive.core.errors import AccessDenied, ValidationError
from archive.core.keys import blob_store, keyring
from archive.documents.services import Upload
from archive.extensions import db
from archive.loans import services
from archive.loans.models import AgencyKind, Consultation
from tests.factories import make_pdf

LETTER = make_pdf("深圳市南山区人民法院", "协助调查函 （2026）粤0305民初1234号", "请协助提供房号2-1502的买卖合同")


def register(identity, numbers, letter: bytes | None = LETTER, **overrides):
    fields = dict(
        agency_kind="court", agency_name="深圳市南山区人民法院", letter_reference="（2026）粤0305民初1234号",
        officer_names="李法官，王书记员", officer_ids="440305198001011234, 44030519900202567X",
        purpose="民事案件调查取证", consulted_on=date(2026, 9, 28), archive_numbers=numbers,
        letter=Upload("协助调查函.pdf", io.BytesIO(letter)) if letter is not None else None,
    )
    return services.register_consultation(identity, **{**fields, **overrides})


def test_an_archivist_registers_a_consultation_with_its_letter_and_officers(clock, app, factory, staff):
    dossier = factory.dossier()
    contract = factory.document(dossier, category="QY", title="房地产买卖合同")
    receipt = factory.document(dossier, category="BZ", title="契税收据", level=Level.B)

    consultation = register(staff.archivist, [contract.archive_number, f"  {receipt.archive_number} "])

    assert consultation.number == "CY-2026-0001" and consultation.agency_kind is AgencyKind.COURT
    assert {d.id for d in consultation.documents} == {contract.id, receipt.id}
    # ID numbers: masked for display, sealed under the master key, never stored in clear.
    assert consultation.officer_ids_masked == "4403**********1234, 4403**********567X"
    assert "440305198001011234" not in consultation.officer_ids_sealed
    assert keyring().open_value(consultation.officer_ids_sealed, services.OFFICER_IDS_CONTEXT) == \
        "440305198001011234, 44030519900202567X"
    # The letter: encrypted at rest like every document, and read back intact.
    (stored,) = Path(app.config["STORAGE_DIR"]).rglob(consultation.letter_blob_id)
    ciphertext = stored.read_bytes()
    assert len(ciphertext) > len(LETTER) and LETTER[:64] not in ciphertext and b"%PDF" not in ciphertext
    with blob_store().open(consultation.letter_blob_id, consultation.letter_key_id,
                           consultation.letter_wrapped_key) as plain:
        assert plain.read() == LETTER
    assert consultation.letter_filename == "协助调查函.pdf" and consultation.letter_media_type == "application/pdf"
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "consultation.register")).one()
    details = json.loads(event.details)
    assert details["documents"] == [contract.archive_number, receipt.archive_number]
    assert details["letter"] == "（2026）粤0305民初1234号" and "440305198001011234" not in event.details

    second = register(staff.archive_head, [contract.archive_number], letter=None, agency_kind=AgencyKind.POLICE)
    assert second.number == "CY-2026-0002" and second.letter_blob_id is None


def test_only_the_archive_registers_consultations(clock, factory, staff):
    document = factory.document(factory.dossier())
    for user in (staff.heads["SALES"], factory.user("compliance-x", roles=(Role.COMPLIANCE,), department="GMO")):
        with pytest.raises(AccessDenied):
            register(user, [document.archive_number])


def test_each_document_must_be_one_the_archivist_can_read(clock, factory, staff):
    c_archivist = factory.user("gmo-c3", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.C)
    secret = factory.document(factory.dossier(), level=Level.A)
    for number in (secret.archive_number, "QZ01-NOPE-01-0101-XS-0001"):
        with pytest.raises(ValidationError) as refused:
            register(c_archivist, [number])
        assert refused.value.details == {"number": number}  # unknown and unreadable look alike
    with pytest.raises(ValidationError, match="List the archive numbers"):
        register(c_archivist, ["  "])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consultation)) == 0


def test_a_consultation_needs_its_letter_officers_and_a_day_not_to_come(clock, factory, staff):
    number = factory.document(factory.dossier()).archive_number
    with pytest.raises(ValidationError, match="Name the authority"):
        register(staff.archivist, [number], letter_reference=" ")
    with pytest.raises(ValidationError, match="ID numbers"):
        register(staff.archivist, [number], officer_ids=" ，")
    with pytest.raises(ValidationError, match="day still to come"):
        register(staff.archivist, [number], consulted_on=date(2026, 9, 29))
    with pytest.raises(ValidationError):
        register(staff.archivist, [number], letter=b"MZ\x90\x00 not a scan")


def test_consultations_are_listed_to_those_who_may_read_every_document_consulted(clock, factory, staff):
    dossier = factory.dossier()
    plain = register(staff.archivist, [factory.document(dossier).archive_number], letter=None)
    secret = register(staff.archivist, [factory.document(dossier, level=Level.A, category="QT").archive_number],
                      letter=None)
    b_compliance = factory.user("audit-b", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.B)
    clerk = factory.user("sales-q", roles=(Role.CLERK,), department="SALES", clearance=Level.A)

    assert [c.id for c in services.consultations(staff.archive_head)] == [secret.id, plain.id]
    assert [c.id for c in services.consultations(b_compliance)] == [plain.id]
    assert services.consultations(clerk) == []

"""A disposal from proposal to crypto-shredding, and every refusal on the way."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from archive.audit.models import AuditEvent
from archive.core.enums import Category, Level
from archive.core.errors import AccessDenied, ArchiveError, Gone
from archive.core.keys import blob_store
from archive.documents import services as documents
from archive.documents.models import Document, FileVersion
from archive.extensions import db
from archive.maintenance.services import verify_blobs
from archive.retention import services
from archive.retention.models import DisposalStatus, ShreddedBlob
from archive.search import services as search
from archive.search.models import ExtractedText
from tests.factories import make_pdf
from tests.retention.conftest import disposed, repair_order


def _found(identity, words: str) -> int:
    return search.search(identity, search.SearchQuery(text=words)).total


def test_disposal_destroys_the_content_and_keeps_record_audit_and_register(app, factory, people):
    dossier = factory.dossier()
    order = repair_order(factory, dossier)
    documents.add_version(factory.archivist, order.id, documents.Upload("v2.pdf", io.BytesIO(
        make_pdf("维修工单 漏水", "复查 渗水已止"))), "复查后补充")
    kept = repair_order(factory, dossier, title="维修工单 门锁", doc_date=date.today())
    versions = db.session.scalars(sa.select(FileVersion).where(FileVersion.document_id == order.id)).all()
    texts = db.session.scalars(sa.select(ExtractedText).where(ExtractedText.document_id == order.id)).all()
    blob_ids = [v.blob_id for v in versions] + [t.blob_id for t in texts]
    assert len(versions) == 2 and all(t.blob_id for t in texts) and len(texts) == 2
    assert all(blob_store().exists(b) for b in blob_ids)
    assert _found(people.archivist, "漏水") == 1

    disposal = disposed(people, [order])

    assert disposal.status is DisposalStatus.COMPLETED
    db.session.expire_all()
    assert not any(blob_store().exists(b) for b in blob_ids)
    versions = db.session.scalars(sa.select(FileVersion).where(FileVersion.document_id == order.id)).all()
    assert all(v.wrapped_key == b"" and v.key_id == "" and v.shredded_at for v in versions)
    assert [v.plain_sha256 for v in versions]  # what was destroyed stays described
    assert db.session.scalars(sa.select(ExtractedText).where(ExtractedText.document_id == order.id)).all() == []
    assert set(db.session.scalars(sa.select(ShreddedBlob.blob_id))) == set(blob_ids)
    record = db.session.get(Document, order.id)
    assert record.title == "维修工单 漏水" and record.disposed_at and record.disposal_id == disposal.id
    actions = set(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "document", AuditEvent.object_id == str(order.id))))
    assert {"document.upload", "document.version", "document.dispose"} <= actions
    assert _found(people.archivist, "漏水") == 0
    assert _found(people.archivist, "门锁") == 1  # the other document of the dossier is untouched
    suggested = {s.text for s in search.autocomplete(people.archivist, order.archive_number[:-2])}
    assert order.archive_number not in suggested and kept.archive_number in suggested
    with pytest.raises(Gone):
        documents.open_file(people.archivist, order.id)
    assert documents.open_file(people.archivist, kept.id).size > 0
    # `archive verify` counts neither a broken file nor an orphan.
    report = verify_blobs(decrypt=True, progress=lambda n: None)
    assert report.problems == [] and report.orphans == []

    register = services.open_register(people.compliance, disposal.id)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(register.stream.read())).pages)
    text = text.replace("\n", "")  # cells wrap long numbers
    for expected in ("销毁清册", disposal.number, "序号", "题名", "起止日期", "档号", "数量", "销毁原因", "备考",
                     order.archive_number, "维修工单 漏水", "20120305", "1 件 / 1 页", "保管期满，经鉴定无保存价值",
                     people.archivist.username, people.head.username, people.compliance.username,
                     people.second_archivist.username):
        assert expected in text, expected
    assert kept.archive_number not in text


def _refused(fn, *args, match: str, **kwargs) -> ArchiveError:
    with pytest.raises(ArchiveError) as caught:
        fn(*args, **kwargs)
    from archive.core.web import error_text
    from flask_babel import force_locale

    with force_locale("en"):
        assert match in error_text(caught.value)
    db.session.rollback()
    return caught.value


def test_each_step_refuses_the_wrong_person(app, factory, people):
    order = repair_order(factory, factory.dossier(), level=Level.B)
    disposal = services.propose_disposal(people.archivist, [order.id], "保管期满")

    with pytest.raises(AccessDenied):  # not an archive head
        services.approve_disposal(people.archivist, disposal.id)
    _refused(services.confirm_witness, people.compliance, disposal.id, match="not possible now")  # not approved yet
    head_proposal = services.propose_disposal(people.head, [repair_order(factory, factory.dossier(unit="9-901")).id],
                                              "保管期满")
    _refused(services.approve_disposal, people.head, head_proposal.id, match="another archive head must approve")
    services.approve_disposal(people.head, disposal.id)
    _refused(services.confirm_witness, people.archivist, disposal.id, match="You proposed this disposal")
    _refused(services.confirm_witness, people.head, disposal.id, match="You approved this disposal")
    with pytest.raises(AccessDenied):  # not cleared for every document: the disposal is invisible to them
        services.confirm_witness(people.low_archivist, disposal.id)
    services.confirm_witness(people.compliance, disposal.id)
    _refused(services.confirm_witness, people.compliance, disposal.id, match="a second, different witness")

    assert services.get_disposal(people.head, disposal.id).status is DisposalStatus.APPROVED
    assert db.session.get(Document, order.id).disposed_at is None
    assert blob_store().exists(db.session.get(Document, order.id).current_version.blob_id)


def test_documents_that_may_not_be_disposed_are_refused_with_their_reason(app, factory, people):
    dossier = factory.dossier()
    current = repair_order(factory, dossier, doc_date=date.today())
    permanent = factory.document(dossier, category=Category.XS, department="SALES", doc_date=date(1990, 1, 1))
    expired = repair_order(factory, dossier)

    _refused(services.propose_disposal, people.archivist, [current.id], "x", match="has not expired yet")
    _refused(services.propose_disposal, people.archivist, [permanent.id], "x", match="kept permanently")
    _refused(services.propose_disposal, people.archivist, [expired.id], " ", match="Give the reason")
    first = services.propose_disposal(people.archivist, [expired.id], "保管期满")
    _refused(services.propose_disposal, people.archivist, [expired.id], "x", match=f"already in disposal proposal {first.number}")
    _refused(services.propose_disposal, people.archivist, [current.id, permanent.id], "x",
             match="2 documents cannot be disposed of")
    with pytest.raises(AccessDenied):  # the compliance officer changes nothing
        services.propose_disposal(people.compliance, [expired.id], "x")

    services.cancel_disposal(people.archivist, first.id, "重新鉴定")
    disposed(people, [expired])
    _refused(services.propose_disposal, people.archivist, [expired.id], "x", match="was disposed of already")

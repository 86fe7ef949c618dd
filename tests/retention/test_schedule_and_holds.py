"""The schedule only lengthens, expiry years, the appraisal list, keep decisions, and legal holds."""
from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from archive.core.enums import Category, Retention
from archive.core.errors import AccessDenied, ArchiveError
from archive.core.web import error_text
from archive.documents import services as documents
from archive.extensions import db
from archive.retention import rules, services
from archive.units import services as units
from tests.retention.conftest import repair_order


def _refused(fn, *args, match: str, **kwargs) -> None:
    with pytest.raises(ArchiveError) as caught:
        fn(*args, **kwargs)
    with force_locale("en"):
        assert match in error_text(caught.value)
    db.session.rollback()


def test_the_schedule_lengthens_never_shortens_and_filing_follows_it(app, factory, people):
    _refused(services.set_schedule, people.head, Category.RH, Retention.YEARS_10, match="can only be lengthened")
    services.set_schedule(people.head, Category.WX, Retention.YEARS_30)

    assert services.get_schedule(people.archivist)[Category.WX] is Retention.YEARS_30
    _refused(services.set_schedule, people.head, Category.WX, Retention.YEARS_10, match="can only be lengthened")
    order = repair_order(factory, factory.dossier())  # 2012, filed without a period: the schedule's 30 years
    assert order.retention is Retention.YEARS_30
    assert rules.expiry_years([order.id])[order.id] == 2042
    meta = documents.DocumentMetadata(category=Category.WX, title="维修", responsible_party="客服中心",
                                      doc_date=date(2020, 1, 1), department_id=order.department_id,
                                      retention=Retention.YEARS_10)
    _refused(documents.file_documents, factory.archivist, order.dossier_id, meta, [], match="shorter than the schedule")


def test_expiry_counts_from_the_year_after_and_the_appraisal_lists_what_is_due(app, factory, people):
    dossier = factory.dossier()
    d10 = repair_order(factory, dossier, doc_date=date(2015, 6, 1))
    d30 = factory.document(dossier, category=Category.RH, department="CA", doc_date=date(1990, 1, 1), title="入伙通知书")
    permanent = factory.document(dossier, category=Category.QY, department="CA", doc_date=date(1990, 1, 1))

    assert rules.expiry_years([d10.id, d30.id, permanent.id]) == {d10.id: 2025, d30.id: 2020, permanent.id: None}
    assert [d.document.id for d in services.appraisal_list(people.archivist, 2025)[1]] == [d30.id]
    year, due = services.appraisal_list(people.archivist, 2026)
    assert [d.document.id for d in due] == [d30.id, d10.id] and all(not d.holds for d in due)

    services.keep(people.head, [d10.id], years=10, reason="仍有维修纠纷可能")
    services.keep(people.head, [d30.id], years=None, reason="具有长期查考价值")
    assert rules.expiry_years([d10.id])[d10.id] == rules.this_year() + 10
    assert db.session.get(type(d30), d30.id).retention is Retention.PERMANENT
    _refused(services.keep, people.head, [d30.id], years=10, reason="x", match="kept permanently already")
    _refused(services.keep, people.head, [d10.id], years=10, reason=" ", match="Give the reason")
    with pytest.raises(AccessDenied):
        services.keep(people.archivist, [d10.id], years=10, reason="x")  # only an archive head appraises
    assert services.appraisal_list(people.archivist, 2026)[1] == []


def test_manual_and_litigation_holds_block_disposal_and_shortening(app, factory, people):
    dossier = factory.dossier()
    order = repair_order(factory, dossier)
    documents.update_metadata(factory.archivist, order.id, {"retention": Retention.YEARS_30})

    hold = services.place_hold(people.head, order.archive_number, "客户投诉调查中")
    _refused(services.propose_disposal, people.archivist, [order.id], "x", match="under legal hold (客户投诉调查中)")
    _refused(documents.update_metadata, factory.archivist, order.id, {"retention": Retention.YEARS_10},
             match="its retention cannot be shortened")
    _refused(services.lift_hold, people.head, hold.id, " ", match="Give the reason")
    services.lift_hold(people.head, hold.id, "调查结束")
    documents.update_metadata(factory.archivist, order.id, {"retention": Retention.YEARS_10})

    # An approved disposal stops when a hold arrives before the witnesses finish.
    disposal = services.propose_disposal(people.archivist, [order.id], "保管期满")
    services.approve_disposal(people.head, disposal.id)
    litigation = units.create_litigation_file(factory.archivist, dossier.id, "业主诉物业漏水赔偿案")
    assert services.held_documents(people.head).litigation[0][1] == [litigation.archive_number]
    _refused(services.confirm_witness, people.compliance, disposal.id,
             match=f"litigation file {litigation.archive_number} is open")

    units.record_case_closed(factory.archivist, litigation.id, date.today())
    services.confirm_witness(people.compliance, disposal.id)
    assert services.confirm_witness(people.second_archivist, disposal.id).completed_at is not None
    _refused(services.place_hold, people.head, order.archive_number, "再查", match="was disposed of on")

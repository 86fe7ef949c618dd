"""The classification change workflow through the services: request, two approvals in either order, the
change applied at once (level, period, knowledge scope, listing), every refusal, the audit trail with old and
new values, and declassification when a dated period has ended."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from archive.auth.services import department_by_code
from archive.classification import services
from archive.classification.cli import classification_cli
from archive.classification.models import ApprovalStep, ChangeStatus, ClassificationChange
from archive.core.clock import local_today
from archive.core.enums import Level, LevelPeriod, Role
from archive.core.errors import AccessDenied, Conflict, ValidationError
from archive.core.permissions import policy
from archive.documents import services as documents
from archive.documents.models import Document
from archive.extensions import db
from tests.classification.conftest import approve_both, ask, audit_details, fresh


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), ZoneInfo("Asia/Shanghai"))


def readable_titles(user, dossier_id: int) -> list[str]:
    _dossier, page = documents.dossier_documents(user, dossier_id)
    return [d.title for d in page.items]


def test_two_approvals_raise_the_level_with_its_period_and_scope_and_the_listing_follows_at_once(
        factory, people, document):
    ca_reader = factory.user("ca-zhao", roles=(Role.CLERK,), department="CA", clearance=Level.A)
    b_colleague = factory.user("sales-b", roles=(Role.CLERK,), department="SALES", clearance=Level.B)
    csc_clerk = factory.user("csc-a", roles=(Role.CLERK,), department="CSC", clearance=Level.A)
    assert readable_titles(b_colleague, document.dossier_id) == ["优惠审批表"]
    assert readable_titles(ca_reader, document.dossier_id) == []
    until = local_today() + timedelta(days=365)

    change = ask(people.requester, document, period=LevelPeriod.DATE, until=until,
                 departments=[department_by_code("CA").id], users=[csc_clerk.id])
    assert (change.number, change.status) == (f"DM-{local_today().year}-0001", ChangeStatus.PENDING)
    # The archive head may decide first: either order.
    services.decide(people.archive_head, change.id, ApprovalStep.ARCHIVE_HEAD, True, "同意")
    assert fresh(Document, document.id).level is Level.B  # one approval changes nothing yet
    services.decide(people.sales_head, change.id, ApprovalStep.DEPARTMENT_HEAD, True)

    doc = fresh(Document, document.id)
    assert (doc.level, doc.level_period, doc.level_until) == (Level.A, LevelPeriod.DATE, until)
    assert {(s.department_id, s.user_id) for s in doc.scope} == {(department_by_code("CA").id, None),
                                                                 (None, csc_clerk.id)}
    assert fresh(ClassificationChange, change.id).status is ChangeStatus.APPROVED
    # B clearance no longer reaches it, even in its own department; the new scope reads it.
    assert readable_titles(b_colleague, document.dossier_id) == []
    assert readable_titles(ca_reader, document.dossier_id) == ["优惠审批表"]
    assert readable_titles(csc_clerk, document.dossier_id) == ["优惠审批表"]
    assert readable_titles(people.requester, document.dossier_id) == ["优惠审批表"]


def test_lowering_to_c_clears_the_period_and_replaces_the_scope(factory, people, document):
    change = ask(people.requester, document, level=Level.A, departments=[department_by_code("CA").id])
    approve_both(change, people)
    lowered = ask(people.requester, fresh(Document, document.id), level=Level.C,
                  period=LevelPeriod.LONG_TERM, reason="项目已开盘，价格已公开")
    assert (lowered.period, lowered.period_until) == (None, None)  # C (内部) has no period
    approve_both(lowered, people)
    doc = fresh(Document, document.id)
    assert (doc.level, doc.level_period, doc.level_until, doc.scope) == (Level.C, None, None, [])
    c_clerk = factory.user("sales-c", roles=(Role.CLERK,), department="SALES", clearance=Level.C)
    assert readable_titles(c_clerk, document.dossier_id) == ["优惠审批表"]


def test_every_step_is_audited_with_old_and_new_values(factory, people, document):
    csc_clerk = factory.user("csc-audit", roles=(Role.CLERK,), department="CSC", clearance=Level.A)
    change = ask(people.requester, document, users=[csc_clerk.id])
    approve_both(change, people)

    (requested,) = audit_details("classification.request")
    assert requested["old"] == {"level": "B", "period": None, "until": None,
                                "scope": {"departments": [], "people": []}}
    assert requested["new"] == {"level": "A", "period": "long_term", "until": None,
                                "scope": {"departments": [], "people": ["csc-audit"]}}
    assert requested["reason"] == "涉及项目底价，需提升密级"
    assert [d["step"] for d in audit_details("classification.approve_step")] == ["department_head", "archive_head"]
    (applied,) = audit_details("classification.apply")
    assert (applied["old"]["level"], applied["new"]["level"]) == ("B", "A")
    assert applied["new"]["scope"] == {"departments": [], "people": ["csc-audit"]}
    assert applied["archive_number"] == document.archive_number and applied["loans_suspended"] == []

    rejected = ask(people.requester, fresh(Document, document.id), level=Level.B)
    services.decide(people.sales_head, rejected.id, ApprovalStep.DEPARTMENT_HEAD, False, "仍属核心商密")
    (rejection,) = audit_details("classification.reject")
    assert (rejection["reason"], rejection["old"], rejection["new"]) == ("仍属核心商密", {"level": "A"},
                                                                         {"level": "B"})
    cancelled = ask(people.requester, fresh(Document, document.id), level=Level.B)
    services.cancel(people.requester, cancelled.id)
    assert audit_details("classification.cancel")[0]["new"] == {"level": "B"}


# Refusals ------------------------------------------------------------------------------------------------


def test_nobody_decides_their_own_request(factory, people, document):
    head_requester = people.sales_head
    factory.user("sales-head-2", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A)
    change = ask(head_requester, document)
    with pytest.raises(ValidationError, match="their own request"):
        services.decide(head_requester, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
    assert services.decidable_steps(head_requester, change) == []


def test_one_person_never_decides_both_steps(factory, people, document):
    both = factory.user("sales-both", roles=(Role.DEPT_HEAD, Role.ARCHIVE_HEAD), department="SALES",
                        clearance=Level.A)
    change = ask(people.requester, document)
    services.decide(both, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
    with pytest.raises(ValidationError, match="already approved"):
        services.decide(both, change.id, ApprovalStep.ARCHIVE_HEAD, True)
    with pytest.raises(Conflict, match="already decided"):
        services.decide(people.sales_head, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
    assert fresh(Document, document.id).level is Level.B


def test_only_the_head_of_the_documents_department_decides_its_step(factory, people, document):
    csc_head = factory.user("csc-head", roles=(Role.DEPT_HEAD,), department="CSC", clearance=Level.A)
    change = ask(people.requester, document)
    with pytest.raises(AccessDenied):  # the CSC head may not even read a SALES document
        services.decide(csc_head, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
    assert services.waiting_for(csc_head) == []
    services.cancel(people.requester, change.id)

    # In the knowledge scope, the CSC head sees the next request, and is told why they cannot decide it.
    first = ask(people.requester, document, departments=[department_by_code("CSC").id])
    approve_both(first, people)
    change = ask(people.requester, fresh(Document, document.id), level=Level.B, period=LevelPeriod.UNTIL_PUBLISHED,
                 departments=[department_by_code("CSC").id])
    with pytest.raises(ValidationError, match="Only the head of"):
        services.decide(csc_head, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
    with pytest.raises(ValidationError, match="Only .* decides this step"):
        services.decide(csc_head, change.id, ApprovalStep.ARCHIVE_HEAD, True)


def test_an_approver_whose_clearance_is_too_low_cannot_decide(factory, people, document):
    deputy = factory.user("gmo-deputy", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.B)
    change = ask(people.requester, document)  # B → A: the deputy is cleared for B only
    with pytest.raises(AccessDenied):
        services.decide(deputy, change.id, ApprovalStep.ARCHIVE_HEAD, True)
    assert services.waiting_for(deputy) == []
    assert [c.id for c in services.waiting_for(people.archive_head)] == [change.id]


def test_a_requester_whose_clearance_is_too_low_or_who_may_not_edit_is_refused(factory, people, document):
    b_clerk = factory.user("sales-b2", roles=(Role.CLERK,), department="SALES", clearance=Level.B)
    with pytest.raises(ValidationError, match="clearance does not reach"):
        ask(b_clerk, document)
    compliance = factory.user("audit-wu", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.A)
    with pytest.raises(AccessDenied):  # reads it, may not edit it
        ask(compliance, document)
    assert not policy.can(compliance, "edit", document)


def test_the_same_level_is_refused(people, document):
    with pytest.raises(ValidationError, match="already at level"):
        ask(people.requester, document, level=Level.B)


def test_a_rejection_needs_a_reason_and_ends_the_request(people, document):
    change = ask(people.requester, document)
    with pytest.raises(ValidationError, match="reason for the rejection"):
        services.decide(people.archive_head, change.id, ApprovalStep.ARCHIVE_HEAD, False, "  ")
    services.decide(people.archive_head, change.id, ApprovalStep.ARCHIVE_HEAD, False, "理由不充分")
    change = fresh(ClassificationChange, change.id)
    assert (change.status, change.rejection_reason) == (ChangeStatus.REJECTED, "理由不充分")
    with pytest.raises(Conflict, match="already"):
        services.decide(people.sales_head, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
    assert fresh(Document, document.id).level is Level.B


def test_a_second_open_request_for_the_document_is_refused(people, document):
    first = ask(people.requester, document)
    with pytest.raises(Conflict, match="still waiting for approval") as refused:
        ask(people.requester, document, level=Level.C)
    assert refused.value.details == {"number": first.number}
    services.cancel(people.requester, first.id)
    assert ask(people.requester, document, level=Level.C).status is ChangeStatus.PENDING


def test_a_dated_period_must_end_after_today_and_a_raise_needs_a_period(people, document):
    today = local_today()
    for until in (today, today - timedelta(days=1)):
        with pytest.raises(ValidationError, match="must end after today"):
            ask(people.requester, document, period=LevelPeriod.DATE, until=until)
    with pytest.raises(ValidationError, match="last day"):
        ask(people.requester, document, period=LevelPeriod.DATE, until=None)
    with pytest.raises(ValidationError, match="Choose the period"):
        ask(people.requester, document, period=None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClassificationChange)) == 0


def test_a_scope_person_below_the_new_level_and_a_request_nobody_can_approve_are_refused(factory, people, document):
    b_reader = factory.user("ca-b", roles=(Role.CLERK,), department="CA", clearance=Level.B)
    with pytest.raises(ValidationError, match="cannot be in the knowledge scope"):
        ask(people.requester, document, users=[b_reader.id])
    people.archive_head.clearance = Level.B
    db.session.commit()
    with pytest.raises(ValidationError, match="Nobody can approve this request"):
        ask(people.requester, document)


def test_only_the_requester_cancels_and_only_while_it_waits(people, document):
    change = ask(people.requester, document)
    with pytest.raises(AccessDenied):
        services.cancel(people.sales_head, change.id)
    approve_both(change, people)
    with pytest.raises(Conflict):
        services.cancel(people.requester, change.id)


# Declassification ----------------------------------------------------------------------------------------


def test_the_sweep_declassifies_a_document_whose_dated_period_ended(time_machine, app, runner, factory, people,
                                                                    document):
    today = local_today()
    change = ask(people.requester, document, period=LevelPeriod.DATE, until=today + timedelta(days=2))
    approve_both(change, people)
    kept = factory.document(fresh(Document, document.id).dossier, level=Level.B, title="长期保密的底价表")
    approve_both(ask(people.requester, kept, period=LevelPeriod.LONG_TERM), people)

    time_machine.move_to(noon(today + timedelta(days=2)))  # the last day itself: still A
    assert services.declassify_expired() == []
    time_machine.move_to(noon(today + timedelta(days=3)))
    result = runner.invoke(classification_cli, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "1 document(s) declassified to C" in result.output and document.archive_number in result.output

    doc = fresh(Document, document.id)
    assert (doc.level, doc.level_period, doc.level_until) == (Level.C, None, None)
    assert fresh(Document, kept.id).level is Level.A  # long-term: never swept
    (event,) = audit_details("classification.declassify")
    assert (event["old"]["level"], event["old"]["period"], event["new"]["level"]) == ("A", "date", "C")
    assert event["old"]["until"] == (today + timedelta(days=2)).isoformat()
    assert services.declassify_expired() == []  # safe to run again

    # A request made before the sweep can no longer be applied to a level that has since changed.
    stale = ask(people.requester, kept, level=Level.B, period=LevelPeriod.LONG_TERM)
    services.decide(people.sales_head, stale.id, ApprovalStep.DEPARTMENT_HEAD, True)
    kept_row = fresh(Document, kept.id)
    kept_row.level = Level.C  # as a concurrent declassification would leave it
    db.session.commit()
    with pytest.raises(Conflict, match="level changed"):
        services.decide(people.archive_head, stale.id, ApprovalStep.ARCHIVE_HEAD, True)

"""The approval chain follows from the highest level and the owning departments (DOMAIN.md, Borrowing):
C — the archive, plus the owning department's head when the borrower is from another department;
B — plus the owning department's head; A — plus the archive head. Nobody approves their own request."""
from __future__ import annotations

from itertools import product

import pytest
from flask_babel import force_locale

from archive.auth import services as auth
from archive.core.enums import Level, Role
from archive.core.errors import AccessDenied, ValidationError
from archive.core.permissions import policy
from archive.loans import services
from archive.loans.models import Decision, LoanStatus, StepKind, StepReason
from tests.loans.conftest import approve_all, request_loan

ARCHIVE = ("archive", None, "every_loan")
ARCHIVE_HEAD = ("archive_head", None, "level_a")


def head(department: str, reason: str) -> tuple:
    return ("department_head", department, reason)


# Written from DOMAIN.md, independently of the implementation: (level, owner) -> steps for a SALES borrower.
EXPECTED = {
    (Level.C, "SALES"): [ARCHIVE],
    (Level.C, "FIN"): [ARCHIVE, head("FIN", "cross_department")],
    (Level.B, "SALES"): [ARCHIVE, head("SALES", "level_b")],
    (Level.B, "FIN"): [ARCHIVE, head("FIN", "cross_department")],
    (Level.A, "SALES"): [ARCHIVE, head("SALES", "level_b"), ARCHIVE_HEAD],
    (Level.A, "FIN"): [ARCHIVE, head("FIN", "cross_department"), ARCHIVE_HEAD],
}


def described(steps) -> list[tuple]:
    return [(s.kind.value, s.department.code if s.department_id else None, s.reason.value) for s in steps]


@pytest.fixture
def sales_borrower(factory):
    return factory.user("sales-zhang", roles=(Role.CLERK,), department="SALES", clearance=Level.A)


@pytest.mark.parametrize("level,owner", list(product([Level.C, Level.B, Level.A], ["SALES", "FIN"])),
                         ids=lambda v: getattr(v, "value", v))
def test_each_level_and_department_gets_its_chain_and_is_approved_only_by_the_last_step(
        clock, factory, staff, sales_borrower, level, owner):
    document = factory.document(factory.dossier(), level=level, department=owner, title="房地产买卖合同")
    draft = services.add_documents(sales_borrower, [document.id])
    preview = services.approval_chain_preview(sales_borrower, draft.id)

    loan = request_loan(sales_borrower, [document])

    assert described(loan.steps) == EXPECTED[(level, owner)]
    assert described(preview) == described(loan.steps)  # the basket showed what submitting created
    assert loan.level is level and loan.number.startswith("JY-2026-")
    for n, step in enumerate(loan.steps, start=1):
        assert loan.status is LoanStatus.SUBMITTED
        loan = services.decide(staff.decider(step), step.id, Decision.APPROVED)
        assert loan.status is (LoanStatus.ISSUED if n == len(loan.steps) else LoanStatus.SUBMITTED)
    assert all(s.decided_by_id and s.decided_at for s in loan.steps)


def test_a_request_spanning_two_owning_departments_asks_each_of_them(clock, factory, staff, sales_borrower):
    dossier = factory.dossier()
    own = factory.document(dossier, level=Level.B, department="SALES", title="认购书")
    finance = factory.document(dossier, level=Level.C, department="FIN", category="QT", title="收款收据")

    loan = request_loan(sales_borrower, [own, finance])

    # B-level in the request: the borrower's own head for their department's document, FIN's head because
    # the borrower is from another department; each head once.
    assert described(loan.steps) == [ARCHIVE, head("SALES", "level_b"), head("FIN", "cross_department")]


def test_a_request_from_a_third_department_needs_every_owner(clock, factory, staff, borrower):
    dossier = factory.dossier()
    documents = [factory.document(dossier, department="SALES"),
                 factory.document(dossier, department="FIN", category="QT")]
    loan = request_loan(borrower, documents)  # borrower: CSC
    assert described(loan.steps) == [ARCHIVE, head("SALES", "cross_department"), head("FIN", "cross_department")]
    assert approve_all(loan, staff).status is LoanStatus.ISSUED


def test_the_steps_can_be_decided_in_any_order(clock, factory, staff, sales_borrower):
    loan = request_loan(sales_borrower, [factory.document(factory.dossier(), level=Level.A, department="FIN")])
    for step in reversed(loan.steps):
        loan = services.decide(staff.decider(step), step.id, Decision.APPROVED)
    assert loan.status is LoanStatus.ISSUED


def test_only_the_right_person_decides_each_step(clock, factory, staff, sales_borrower):
    loan = request_loan(sales_borrower, [factory.document(factory.dossier(), level=Level.A, department="FIN")])
    archive_step, fin_step, head_step = loan.steps
    sales_head, csc_head = staff.heads["SALES"], staff.heads["CSC"]
    b_cleared_fin_head = factory.user("fin-deputy", roles=(Role.DEPT_HEAD,), department="FIN", clearance=Level.B)
    clerk = factory.user("fin-clerk", roles=(Role.CLERK,), department="FIN", clearance=Level.A)

    # The borrower's own head sees the loan but heads SALES, not FIN; the archivist is not the archive head.
    with pytest.raises(AccessDenied):
        services.decide(sales_head, fin_step.id, Decision.APPROVED)
    with pytest.raises(AccessDenied):
        services.decide(staff.archivist, head_step.id, Decision.APPROVED)
    # Those who may not see the loan at all find nothing: another department's head, a clerk, a head
    # whose clearance does not reach the loan's level.
    assert policy.can(sales_head, "read", loan) and policy.can(staff.archivist, "read", loan)
    for outsider in (csc_head, clerk, b_cleared_fin_head):
        assert not policy.can(outsider, "read", loan)
        with pytest.raises(AccessDenied):
            services.decide(outsider, fin_step.id, Decision.APPROVED)
    assert not any(services.may_decide(p, s) for p, s in [(sales_head, fin_step), (staff.archivist, head_step),
                                                          (b_cleared_fin_head, fin_step), (clerk, fin_step)])
    assert [s.decision for s in services.get_loan(sales_borrower, loan.id).steps] == [None, None, None]


def test_nobody_approves_their_own_request(clock, factory, staff):
    own_archivist = factory.user("gmo-zhao", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    loan = request_loan(own_archivist, [factory.document(factory.dossier(), department="GMO")])
    (archive_step,) = loan.steps
    assert not services.may_decide(own_archivist, archive_step)
    with pytest.raises(ValidationError, match="Nobody approves their own request"):
        services.decide(own_archivist, archive_step.id, Decision.APPROVED)
    assert services.decide(staff.archivist, archive_step.id, Decision.APPROVED).status is LoanStatus.ISSUED


def test_one_person_decides_at_most_one_step_of_a_loan(clock, factory, staff, sales_borrower):
    """The archive head may decide the archive's step too, but then not the archive head's step."""
    loan = request_loan(sales_borrower, [factory.document(factory.dossier(), level=Level.A, department="SALES")])
    archive_step, sales_step, head_step = loan.steps
    second_head = factory.user("gmo-head-2", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)

    services.decide(staff.archive_head, archive_step.id, Decision.APPROVED)

    assert not services.may_decide(staff.archive_head, head_step)
    with pytest.raises(ValidationError, match="already decided a step of this loan"):
        services.decide(staff.archive_head, head_step.id, Decision.APPROVED)
    services.decide(staff.heads["SALES"], sales_step.id, Decision.APPROVED)
    loan = services.decide(second_head, head_step.id, Decision.APPROVED)
    assert loan.status is LoanStatus.ISSUED
    assert len({s.decided_by_id for s in loan.steps}) == 3


def test_an_approval_that_would_leave_a_step_without_approver_is_refused(clock, factory, sales_borrower):
    """With one archivist and one archive head cleared for A, the head must leave the archive's step to the
    archivist: approving it would leave nobody for the archive head's step."""
    archivist = factory.user("gmo-sun", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    archive_head = factory.user("gmo-chief", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    factory.user("gmo-boss", roles=(Role.DEPT_HEAD,), department="GMO", clearance=Level.A)
    loan = request_loan(sales_borrower, [factory.document(factory.dossier(), level=Level.A, department="GMO")])
    archive_step, _gmo_head_step, head_step = loan.steps

    with pytest.raises(ValidationError, match="nobody is left to approve it as") as refused:
        services.decide(archive_head, archive_step.id, Decision.APPROVED)
    with force_locale("en"):
        assert str(refused.value.details["step"]) == "Archive head 档案室负责人"
    assert services.get_loan(archivist, loan.id).steps[0].decision is None

    services.decide(archivist, archive_step.id, Decision.APPROVED)
    assert services.decide(archive_head, head_step.id, Decision.APPROVED).status is LoanStatus.SUBMITTED


def test_a_request_nobody_could_approve_is_refused_naming_the_step(clock, factory, sales_borrower, staff):
    """LEGAL has no head: a request for LEGAL's documents cannot be approved, so it is not sent."""
    document = factory.document(factory.dossier(), department="LEGAL", category="SS", title="民事判决书")
    with pytest.raises(ValidationError, match="Nobody can approve this request as") as refused:
        request_loan(sales_borrower, [document])
    with force_locale("en"):
        assert str(refused.value.details["step"]) == "Head of the owning department 归档部门负责人 (法律室)"
    assert services.basket(sales_borrower).status is LoanStatus.DRAFT  # the request stays in the basket


def test_inactive_and_insufficiently_cleared_heads_do_not_count(clock, factory, sales_borrower):
    factory.user("gmo-wu", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    factory.user("legal-weak", roles=(Role.DEPT_HEAD,), department="LEGAL", clearance=Level.C)
    gone = factory.user("legal-gone", roles=(Role.DEPT_HEAD,), department="LEGAL", clearance=Level.B)
    admin = factory.user("admin-y", roles=(Role.ADMIN,), department="GMO")
    auth.set_active(admin, gone.username, False)
    document = factory.document(factory.dossier(), department="LEGAL", level=Level.B, category="SS")

    with pytest.raises(ValidationError, match="Nobody can approve this request as"):
        request_loan(sales_borrower, [document])


def test_a_head_borrowing_their_own_departments_b_document_needs_another_head(clock, factory, staff):
    """The only SALES head asking for a SALES B-level document: the SALES step would be their own."""
    only_head = staff.heads["SALES"]
    document = factory.document(factory.dossier(), level=Level.B, department="SALES")
    with pytest.raises(ValidationError, match="Nobody can approve this request as"):
        request_loan(only_head, [document])
    deputy = factory.user("sales-deputy", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.B)
    loan = request_loan(only_head, [document])
    assert services.may_decide(deputy, loan.steps[1]) and not services.may_decide(only_head, loan.steps[1])


def test_an_a_level_request_needs_different_people_for_the_archive_and_its_head(clock, factory, sales_borrower):
    """Only the archive head is cleared for A: it could decide either archive step, not both."""
    factory.user("gmo-b", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.B)
    factory.user("gmo-only-head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    factory.user("sales-boss", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A)
    document = factory.document(factory.dossier(), level=Level.A, department="SALES")
    admin = factory.user("admin-w", roles=(Role.ADMIN,), department="GMO")
    auth.set_active(admin, factory.archivist.username, False)  # the archivist who filed the test data
    with pytest.raises(ValidationError, match="Nobody is left to approve this request as") as refused:
        request_loan(sales_borrower, [document])
    with force_locale("en"):
        assert str(refused.value.details["step"]) == "Archive head 档案室负责人"


def test_inbox_lists_what_each_approver_may_decide_now(clock, factory, staff, sales_borrower, borrower):
    cross = request_loan(borrower, [factory.document(factory.dossier(), department="SALES")])
    own_a = request_loan(sales_borrower, [factory.document(factory.dossier(), level=Level.A, department="SALES")])

    def inbox(user):
        return [(s.loan_id, s.kind) for s in services.inbox(user)]

    assert inbox(staff.archivist) == [(cross.id, StepKind.ARCHIVE), (own_a.id, StepKind.ARCHIVE)]
    assert inbox(staff.heads["SALES"]) == [(cross.id, StepKind.DEPARTMENT_HEAD), (own_a.id, StepKind.DEPARTMENT_HEAD)]
    assert inbox(staff.archive_head) == [(cross.id, StepKind.ARCHIVE), (own_a.id, StepKind.ARCHIVE),
                                         (own_a.id, StepKind.ARCHIVE_HEAD)]
    assert inbox(staff.heads["FIN"]) == [] and inbox(borrower) == []

    # With a second archive head, the first may take the archive's step of own_a, and then no other.
    factory.user("gmo-head-2", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    services.decide(staff.archive_head, own_a.steps[0].id, Decision.APPROVED)
    assert inbox(staff.archive_head) == [(cross.id, StepKind.ARCHIVE)]  # decided one step of own_a already
    assert inbox(staff.archivist) == [(cross.id, StepKind.ARCHIVE)]
    for user in (staff.archivist, staff.archive_head, staff.heads["SALES"]):
        for step in services.inbox(user):
            assert services.may_decide(user, step)


def test_reasons_are_shown_to_the_approver(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier(), level=Level.B, department="SALES")])
    assert [s.reason for s in loan.steps] == [StepReason.EVERY_LOAN, StepReason.CROSS_DEPARTMENT]
    with force_locale("en"):
        assert loan.steps[1].reason.label == "The borrower is from another department"

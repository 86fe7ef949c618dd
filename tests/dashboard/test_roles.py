"""Each role lands on its own work: the situations are made through the real services, the page is read over HTTP."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.classification import services as classification
from archive.classification.models import ApprovalStep
from archive.core.enums import Category, Level, LevelPeriod, Role
from archive.core.types import utcnow
from archive.extensions import db
from archive.handovers import services as handovers
from archive.handovers.deadlines import ensure_default_rules
from archive.handovers.models import HandoverRule
from archive.loans import services as loans
from archive.loans.models import Decision, LoanUse, StepKind
from archive.retention import services as retention
from archive.search import services as search
from tests.factories import signed_in

# The headings of each role's panels, to tell that one role's work does not show on another's page.
DUE = "Handovers due from my department"
MY_LOANS = "My open loans"
DECISIONS = "Loan requests waiting for your decision"
CHANGES = "Classification changes waiting for you"
BATCHES = "Handovers waiting for you"
DESK = "Loan desk"
DISPOSALS = "Disposals waiting for you"
INTEGRITY = "Integrity alerts"
AUDIT = "Audit alerts"
SEARCHES = "Recent searches"
BACKUPS = "Backups"
LOCKED = "Log-ins locked out now"
PANELS = {DUE, MY_LOANS, DECISIONS, CHANGES, BATCHES, DESK, DISPOSALS, INTEGRITY, AUDIT, SEARCHES, BACKUPS, LOCKED}


def _board(app, factory, user) -> str:
    """The landing page of the user, logged in afresh in a browser of their own."""
    answer = signed_in(app, factory, user).get("/", follow_redirects=True)
    assert answer.status_code == 200 and answer.request.path == "/dashboard"
    return answer.get_data(as_text=True)


def _panels(page: str) -> set[str]:
    """The panels on the page, by their headings (a count may follow the heading)."""
    return {heading.strip() for heading in re.findall(r"<h2>([^<]*)", page)} & PANELS


@pytest.fixture
def rules(app) -> dict[Category, HandoverRule]:
    ensure_default_rules()
    return {rule.category: rule for rule in db.session.scalars(sa.select(HandoverRule))}


def _request(borrower, documents, use=LoanUse.VIEW):
    draft = loans.add_documents(borrower, [d.id for d in documents])
    start = loans.local_today()
    return loans.submit(borrower, draft.id, purpose="核对业主押金退还情况", use=use, start_date=start,
                        due_date=start + timedelta(days=2))


def test_a_clerk_sees_the_handovers_due_and_their_own_loans(app, client, factory, rules):
    clerk = factory.user("sales-li", department="SALES")
    factory.user("csc-head", roles=(Role.DEPT_HEAD,), department="CSC")  # approves the loan of its document
    dossier = factory.dossier()
    overdue = factory.document(dossier, department="SALES", title="认购书 张伟", doc_date=date(2025, 3, 3))
    csc_document = factory.document(dossier, department="CSC", category=Category.WX, title="维修工单 漏水")
    loan = _request(clerk, [csc_document])

    # In Chinese, the interface's default (before the user picks English below).
    chinese = signed_in(app, factory, clerk, english=False).get("/dashboard").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in chinese and "已逾期" in chinese and "移交期限" in chinese
    assert "认购书 张伟" in chinese and "待审批" in chinese

    page = _board(app, factory, clerk)
    assert _panels(page) == {DUE, MY_LOANS, BATCHES}  # batches: theirs to send once signed off
    assert overdue.archive_number in page and "Overdue: 1" in page
    assert loan.number in page and "Waiting for approval" in page
    assert csc_document.archive_number not in page  # another department's document is not theirs to hand over


def test_a_department_head_sees_loan_steps_classification_changes_and_batches_to_sign_off(
        app, client, factory, rules):
    head = factory.user("sales-head", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A)
    other_head = factory.user("csc-head", roles=(Role.DEPT_HEAD,), department="CSC", clearance=Level.A)
    factory.user("gmo-head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)  # the other approver
    clerk = factory.user("sales-zhao", department="SALES", clearance=Level.A)
    borrower = factory.user("csc-wang", department="CSC")
    dossier = factory.dossier()
    lent = factory.document(dossier, department="SALES", title="认购书 张伟")
    raised = factory.document(dossier, department="SALES", title="优惠审批表")
    handed = factory.document(dossier, department="SALES", title="排号协议", doc_date=date(2025, 3, 3))
    loan = _request(borrower, [lent])
    change = classification.request_change(clerk, raised.id, new_level=Level.B, period=LevelPeriod.LONG_TERM,
                                           until=None, reason="涉及项目底价")
    batch = handovers.create_batch(clerk, rules[Category.XS].id)
    handovers.add_documents(clerk, batch.id, [handed.id])

    page = _board(app, factory, head)
    assert {DECISIONS, CHANGES, BATCHES} <= _panels(page) and DESK not in _panels(page)
    assert loan.number in page and change.number in page and batch.number in page

    elsewhere = _board(app, factory, other_head)
    assert loan.number not in elsewhere and change.number not in elsewhere and batch.number not in elsewhere


def test_the_archivist_checks_batches_sent_to_the_archive_and_works_the_desk(app, factory, rules, time_machine):
    archivist = factory.user("gmo-sun", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    sales_head = factory.user("sales-head", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A)
    csc_head = factory.user("csc-head", roles=(Role.DEPT_HEAD,), department="CSC", clearance=Level.A)
    csc_clerk = factory.user("csc-wu", department="CSC")
    borrower = factory.user("csc-wang", department="CSC")
    dossier = factory.dossier()
    # The customer service centre hands its repair orders to the GM office, the archive.
    handed = factory.document(dossier, department="CSC", category=Category.WX, title="维修工单 漏水")
    paper = factory.document(dossier, department="SALES", title="排号协议")
    batch = handovers.create_batch(csc_clerk, rules[Category.WX].id)
    handovers.add_documents(csc_clerk, batch.id, [handed.id])
    handovers.sign_off(csc_head, batch.id)
    handovers.send(csc_clerk, batch.id)
    loan = _request(borrower, [paper], use=LoanUse.READING_ROOM)
    for step in list(loan.steps):
        decider = archivist if step.kind is StepKind.ARCHIVE else sales_head
        loans.decide(decider, step.id, Decision.APPROVED)

    page = _board(app, factory, archivist)
    panels = _panels(page)
    assert {BATCHES, DESK, DISPOSALS, DECISIONS} <= panels
    assert not panels & {DUE, MY_LOANS, INTEGRITY, AUDIT, SEARCHES, BACKUPS, LOCKED}
    assert batch.number in page and loan.number in page
    assert "<dt>To issue</dt><dd>1</dd>" in page

    # Issued, and not back two days after its last day: overdue on the archive head's desk too.
    loans.issue(archivist, loan.id)
    time_machine.move_to(utcnow() + timedelta(days=5), tick=True)
    loans.sweep()
    head = factory.user("gmo-head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    overdue = _board(app, factory, head)
    assert '<dt>Overdue</dt><dd class="error-text">1</dd>' in overdue and loan.number in overdue


def test_the_archive_head_sees_approvals_of_classification_and_disposal(app, client, factory):
    head = factory.user("gmo-head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    archivist = factory.user("gmo-sun", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    clerk = factory.user("sales-zhao", department="SALES", clearance=Level.A)
    factory.user("sales-head", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A)
    dossier = factory.dossier()
    raised = factory.document(dossier, department="SALES", title="优惠审批表")
    expired = factory.document(dossier, department="CSC", category=Category.WX, title="维修工单 漏水",
                               doc_date=date(2012, 3, 5))
    change = classification.request_change(clerk, raised.id, new_level=Level.B, period=LevelPeriod.LONG_TERM,
                                           until=None, reason="涉及项目底价")
    disposal = retention.propose_disposal(archivist, [expired.id], "保管期满，经鉴定无保存价值")

    page = _board(app, factory, head)
    panels = _panels(page)
    assert {CHANGES, DISPOSALS, DESK, INTEGRITY, BACKUPS, DECISIONS} <= panels
    assert not panels & {DUE, MY_LOANS, AUDIT, SEARCHES, LOCKED}
    assert change.number in page and disposal.number in page

    classification.decide(head, change.id, ApprovalStep.ARCHIVE_HEAD, True)
    retention.approve_disposal(head, disposal.id)
    decided = _board(app, factory, head)
    assert change.number not in decided and disposal.number not in decided  # done: no longer waiting


def test_the_compliance_officer_sees_recent_searches_and_audit_alerts(app, client, factory):
    officer = factory.user("audit-qian", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.A)
    clerk = factory.user("sales-li", department="SALES")
    other = factory.document(factory.dossier(), department="CSC", category=Category.WX, title="维修工单 漏水")
    for n in range(11):
        search.search(clerk, search.SearchQuery(text=f"押金退还 {n}"))
    factory.login(client, clerk)
    assert client.get(f"/documents/{other.id}").status_code == 404  # refused, and recorded as denied
    assert factory.login(app.test_client(), "sales-li", password="wrong password").status_code == 401

    page = _board(app, factory, officer)
    panels = _panels(page)
    assert {SEARCHES, AUDIT, INTEGRITY} <= panels and not panels & {BACKUPS, DESK, LOCKED, DUE}
    # The ten newest of the eleven searches, and the exact count.
    assert "押金退还 10" in page and "押金退还 1<" in page and "押金退还 0" not in page and "sales-li" in page
    assert "10 of 11 shown." in page
    assert re.search(r'Failed log-ins</dt><dd class="error-text"><a href="[^"]+">1</a>', page)
    denied = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.outcome == "denied"))
    assert denied >= 1 and f">{denied}</a>" in page
    # Reading the searches is reading the trail: recorded like every audit view.
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "audit.view",
                                                              AuditEvent.actor_name == "audit-qian")) == 1


def test_the_administrator_sees_backups_and_locked_out_logins(app, client, factory):
    admin = factory.user("admin2", roles=(Role.ADMIN,), department="GMO")
    factory.user("sales-li", department="SALES")
    calm = _board(app, factory, admin)
    assert _panels(calm) == {BACKUPS, LOCKED} and "No log-in is locked out." in calm

    for _attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        factory.login(app.test_client(), "sales-li", password="wrong password")
    locked = _board(app, factory, admin)
    assert "<li>sales-li</li>" in locked

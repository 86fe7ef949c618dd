"""A change takes effect on loans in progress at once: a loan the new level no longer fits is suspended with
its reason (electronic access stops, the borrower is told, paper comes back through the desk); one that still
fits runs on."""
from __future__ import annotations

import sqlalchemy as sa

from archive.classification.models import ClassificationChange
from archive.core.enums import Level, LevelPeriod, Role
from archive.extensions import db
from archive.loans import services as loans
from archive.loans.models import ItemState, Loan, LoanStatus, LoanUse
from archive.notifications.models import Notification
from tests.classification.conftest import People, approve_both, ask, audit_details, fresh
from tests.factories import signed_in
from tests.loans.conftest import approve_all, borrower, clock, request_loan, staff  # noqa: F401 (fixtures)


def test_a_raise_suspends_the_loans_it_no_longer_fits_and_leaves_the_others(
        clock, app, factory, staff, borrower, document):
    people = People(factory.user("sales-li", department="SALES", clearance=Level.A),
                    staff.heads["SALES"], staff.archive_head)
    reader = factory.user("ca-a", roles=(Role.CLERK,), department="CA", clearance=Level.A)
    core_secret = factory.document(document.dossier, level=Level.A, title="项目底价表")
    view = approve_all(request_loan(borrower, [document], days=3), staff)  # B clearance, below A
    paper = approve_all(request_loan(reader, [document], use=LoanUse.READING_ROOM, days=14), staff)
    paper = loans.issue(staff.archivist, paper.id)
    fitting = approve_all(request_loan(reader, [document, core_secret], days=2), staff)  # A-level already
    plain = approve_all(request_loan(reader, [document], days=2), staff)  # approved without the archive head
    client = signed_in(app, factory, borrower)
    assert client.get(f"/documents/{document.id}").status_code == 200

    change = ask(people.requester, document, level=Level.A, period=LevelPeriod.UNTIL_PUBLISHED)
    approve_both(change, people)

    assert client.get(f"/documents/{document.id}").status_code == 404  # access stopped at once
    statuses = {loan.id: fresh(Loan, loan.id) for loan in (view, paper, fitting, plain)}
    assert {i: (l.status, l.suspended_reason) for i, l in statuses.items()} == {
        view.id: (LoanStatus.SUSPENDED, "A document of this loan was raised above the borrower's clearance."),
        paper.id: (LoanStatus.SUSPENDED, "A document of this loan was raised to level A, and an A-level loan "
                                         "runs at most 5 working days."),
        fitting.id: (LoanStatus.ISSUED, None),
        plain.id: (LoanStatus.SUSPENDED, "A document of this loan was raised to a level its approvals do not "
                                         "cover: request it again."),
    }
    (applied,) = audit_details("classification.apply")
    assert sorted(applied["loans_suspended"]) == sorted([view.number, paper.number, plain.number])
    suspended = audit_details("loan.suspend")
    assert {(d["number"], d["was"], d["level"]) for d in suspended} == {
        (view.number, "issued", "A"), (paper.number, "issued", "A"), (plain.number, "issued", "A")}
    told = db.session.scalars(sa.select(Notification).where(Notification.kind == "loan.suspended")).all()
    assert sorted(n.params["number"] for n in told) == sorted([view.number, paper.number, plain.number])

    page = client.get(f"/loans/{view.id}").get_data(as_text=True)
    assert "Suspended" in page, page
    assert "raised above the borrower" in page, page

    # The paper items still come back through the desk, which closes the loan.
    item = fresh(Loan, paper.id).items[0]
    returned = loans.check_return(staff.archivist, paper.id,
                                  {item.id: loans.ItemCheck(ItemState.RETURNED, item.pages_issued)})
    assert returned.status is LoanStatus.RETURNED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClassificationChange)) == 1

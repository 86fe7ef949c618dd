"""Electronic access opens at approval and ends exactly at the end of the last day, sweep or no sweep; the
sweep expires what ran out, marks paper loans overdue and escalates them once."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from archive.auth import services as auth
from archive.core.enums import Level, Role
from archive.extensions import db
from archive.loans import services
from archive.loans.cli import loans_cli
from archive.loans.models import Decision, ItemState, Loan, LoanStatus, LoanUse
from archive.notifications.models import Notification
from archive.search.queue import huey
from tests.factories import make_pdf
from tests.loans.conftest import approve_all, audit_actions, local, request_loan

CONTRACT = make_pdf("房地产买卖合同", "甲方：丽景苑置业有限公司", pages=2)


def pages_seen(app, factory, user, document_id: int) -> dict[str, int]:
    """What the user gets from the document page, the original download and the preview, logged in afresh
    (a session cookie does not outlive the clock's jumps)."""
    client = app.test_client()
    assert factory.login(client, user).status_code == 302
    return {
        "page": client.get(f"/documents/{document_id}").status_code,
        "download": client.get(f"/documents/{document_id}/download").status_code,
        "preview": client.get(f"/documents/{document_id}/preview").status_code,
    }


@pytest.fixture
def contract(factory):
    """A SALES contract: the CSC borrower has no need to know it without a loan."""
    return factory.document(factory.dossier(), category="QY", title="房地产买卖合同", content=CONTRACT)


def test_a_view_loan_opens_the_page_at_approval_and_closes_it_at_the_end_of_the_last_day(
        clock, app, factory, staff, borrower, contract):
    closed = {"page": 404, "download": 404, "preview": 404}
    loan = request_loan(borrower, [contract], use=LoanUse.VIEW, days=3)  # 28–30 September
    assert pages_seen(app, factory, borrower, contract.id) == closed  # asked for, not yet approved

    approve_all(loan, staff)

    # View-only: the page (and with it the watermarked rendition) but never the original file.
    assert pages_seen(app, factory, borrower, contract.id) == {"page": 200, "download": 404, "preview": 404}
    clock.move_to(local(2026, 9, 30, 23, 59, 58))
    assert pages_seen(app, factory, borrower, contract.id)["page"] == 200
    clock.move_to(local(2026, 10, 1, 0, 0, 0), tick=False)  # midnight ending the last day
    assert pages_seen(app, factory, borrower, contract.id) == closed
    # Closed before the sweep ran: the loan is still marked issued until it does.
    assert db.session.get(Loan, loan.id).status is LoanStatus.ISSUED
    assert services.sweep().expired == 1
    assert db.session.get(Loan, loan.id).status is LoanStatus.EXPIRED


def test_a_copy_loan_gives_the_original_file(clock, app, factory, staff, borrower, contract):
    approve_all(request_loan(borrower, [contract], use=LoanUse.COPY), staff)

    client = app.test_client()
    factory.login(client, borrower)
    download = client.get(f"/documents/{contract.id}/download")

    assert download.status_code == 200
    assert hashlib.sha256(download.get_data()).digest() == hashlib.sha256(CONTRACT).digest()
    assert client.get(f"/documents/{contract.id}/preview").status_code == 200
    assert "loan.view" not in audit_actions()  # a download is audited as one, not as a loan view
    assert audit_actions("document.download")


def test_a_loan_starting_tomorrow_opens_at_midnight(clock, app, factory, staff, borrower, contract):
    approve_all(request_loan(borrower, [contract], start=date(2026, 9, 29), days=1), staff)
    assert pages_seen(app, factory, borrower, contract.id)["page"] == 404
    clock.move_to(local(2026, 9, 29, 0, 0, 1))
    assert pages_seen(app, factory, borrower, contract.id)["page"] == 200


def test_a_paper_loan_opens_nothing_on_screen(clock, app, factory, staff, borrower, contract):
    loan = approve_all(request_loan(borrower, [contract], use=LoanUse.READING_ROOM), staff)
    services.issue(staff.archivist, loan.id)
    assert pages_seen(app, factory, borrower, contract.id)["page"] == 404


def test_a_loan_never_lifts_clearance(clock, app, factory, staff, borrower):
    """The borrower's clearance is lowered while the loan runs: the B-level document closes at once."""
    secret = factory.document(factory.dossier(), level=Level.B, title="优惠审批单", content=CONTRACT)
    approve_all(request_loan(borrower, [secret]), staff)
    assert pages_seen(app, factory, borrower, secret.id)["page"] == 200

    admin = factory.user("admin-q", roles=(Role.ADMIN,), department="GMO")
    auth.update_user(admin, borrower.id, display_name=borrower.display_name, department_code="CSC",
                     roles={Role.CLERK}, clearance=Level.C, active=True)

    assert pages_seen(app, factory, borrower, secret.id)["page"] == 404


def test_another_persons_loan_opens_nothing(clock, app, factory, staff, borrower, contract):
    approve_all(request_loan(borrower, [contract]), staff)
    colleague = factory.user("csc-zhao", roles=(Role.CLERK,), department="CSC", clearance=Level.B)
    assert pages_seen(app, factory, colleague, contract.id)["page"] == 404


def test_ending_access_early_closes_the_page(clock, app, factory, staff, borrower, contract):
    loan = approve_all(request_loan(borrower, [contract]), staff)
    services.end_access(borrower, loan.id)
    assert pages_seen(app, factory, borrower, contract.id)["page"] == 404


def test_active_loans_and_viewing_records(clock, factory, staff, borrower, contract):
    loan = approve_all(request_loan(borrower, [contract]), staff)
    assert [l.id for l in services.active_loans_for(borrower, contract)] == [loan.id]
    assert services.active_loans_for(staff.archivist, contract) == []
    services.record_view(borrower, loan, contract)
    assert audit_actions()[-1] == "loan.view"
    clock.move_to(local(2026, 10, 1, 0, 0, 0))
    assert services.active_loans_for(borrower, contract) == []


# The sweep --------------------------------------------------------------------------------------------


def notifications() -> list[tuple[str, str, str]]:
    rows = db.session.execute(
        sa.select(Notification.user_id, Notification.kind, Notification.params, Notification.link)
        .order_by(Notification.user_id)).all()
    return [(user_id, kind, params["number"], link) for user_id, kind, params, link in rows]


def test_the_sweep_expires_marks_overdue_and_escalates_once(clock, factory, staff, borrower):
    dossier = factory.dossier()
    docs = [factory.document(dossier, category=c, content=make_pdf(c, pages=2)) for c in ("XS", "QY", "BZ", "RH")]
    electronic = approve_all(request_loan(borrower, docs[:1], days=2), staff)
    never_issued = approve_all(request_loan(borrower, docs[1:2], use=LoanUse.READING_ROOM, days=2), staff)
    out = approve_all(request_loan(borrower, docs[2:3], use=LoanUse.TAKE_OUT, days=2), staff)
    out = services.issue(staff.archivist, out.id)
    waiting = request_loan(borrower, docs[3:4], days=2)
    runs_longer = approve_all(request_loan(borrower, docs[:1], days=5), staff)
    second_head = factory.user("csc-deputy", roles=(Role.DEPT_HEAD,), department="CSC")
    retired_head = factory.user("csc-retired", roles=(Role.DEPT_HEAD,), department="CSC")
    admin = factory.user("admin-s", roles=(Role.ADMIN,), department="GMO")
    auth.set_active(admin, retired_head.username, False)

    assert services.sweep() == services.SweepResult(0, 0, 0)  # nothing has run out on the first day

    clock.move_to(local(2026, 9, 30, 0, 0, 0))  # the midnight after the last day, 29 September
    result = services.sweep()

    status = {loan.id: db.session.get(Loan, loan.id).status
              for loan in (electronic, never_issued, out, waiting, runs_longer)}
    assert status == {electronic.id: LoanStatus.EXPIRED, never_issued.id: LoanStatus.EXPIRED,
                      out.id: LoanStatus.OVERDUE, waiting.id: LoanStatus.EXPIRED, runs_longer.id: LoanStatus.ISSUED}
    assert result == services.SweepResult(expired=3, overdue=1, notified=1)
    assert db.session.get(Loan, electronic.id).closed_at == local(2026, 9, 30)
    overdue = db.session.get(Loan, out.id)
    assert overdue.overdue_notified_at is not None and overdue.closed_at is None
    # The borrower and every active head of the borrower's department (CSC), not the owning SALES head.
    expected = sorted([(borrower.id, "loan.overdue", out.number, f"/loans/{out.id}"),
                       (staff.heads["CSC"].id, "loan.overdue", out.number, f"/loans/{out.id}"),
                       (second_head.id, "loan.overdue", out.number, f"/loans/{out.id}")])
    assert notifications() == expected
    assert audit_actions().count("loan.expire") == 3 and audit_actions().count("loan.overdue") == 1

    clock.move_to(local(2026, 10, 2, 9, 0))
    assert services.sweep() == services.SweepResult(0, 0, 0)  # idempotent: nobody is told twice
    assert notifications() == expected

    # Coming back late still closes the loan.
    item = overdue.items[0]
    closed = services.check_return(staff.archivist, out.id, {item.id: services.ItemCheck(ItemState.RETURNED, 2)})
    assert closed.status is LoanStatus.RETURNED


def test_an_overdue_loan_can_be_renewed(clock, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier())], use=LoanUse.TAKE_OUT,
                                    days=1), staff)
    services.issue(staff.archivist, loan.id)
    clock.move_to(local(2026, 9, 29, 10, 0))
    services.sweep()
    renewal = services.request_renewal(borrower, loan.id, due_date=date(2026, 10, 2), purpose="延期归还")
    renewal = approve_all(renewal, staff)
    assert services.get_loan(borrower, loan.id).status is LoanStatus.RENEWED
    assert renewal.status is LoanStatus.ISSUED


def test_the_sweep_is_a_command_and_a_periodic_task(clock, app, factory, staff, borrower):
    loan = approve_all(request_loan(borrower, [factory.document(factory.dossier())], days=1), staff)
    clock.move_to(local(2026, 9, 29, 0, 30))

    result = app.test_cli_runner().invoke(loans_cli, ["sweep"])

    assert result.exit_code == 0, result.output
    assert "1 expired, 0 overdue" in result.output
    assert db.session.get(Loan, loan.id).status is LoanStatus.EXPIRED

    # The worker (which has imported the command, hence the task) runs the sweep every quarter of an hour.
    def due_at(minute: int) -> set[str]:
        return {task.name for task in huey.read_periodic(datetime(2026, 9, 28, 16, minute))}  # naive UTC

    assert "sweep_loans" in due_at(45) and "sweep_loans" not in due_at(50)


def test_a_rejected_request_is_left_alone_by_the_sweep(clock, factory, staff, borrower):
    loan = request_loan(borrower, [factory.document(factory.dossier())], days=1)
    services.decide(staff.archivist, loan.steps[0].id, Decision.REJECTED, "不予批准")
    clock.move_to(local(2026, 10, 8, 9, 0))
    assert services.sweep() == services.SweepResult(0, 0, 0)
    assert db.session.get(Loan, loan.id).status is LoanStatus.REJECTED

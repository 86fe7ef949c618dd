"""The loan pages as a user meets them, through real HTTP requests with real CSRF tokens: the basket, the
request, the approvers' inbox and decisions, reading under a loan, the paper desk, the slip, consultations,
statistics, overdue notifications, in English and Chinese."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from archive.audit.models import AuditEvent
from archive.core.enums import Level, Role
from archive.extensions import db
from archive.loans import services
from archive.loans.models import Consultation, Decision, ItemState, Loan, LoanItem, LoanStatus, LoanStep, LoanUse
from tests.factories import csrf_token, html, make_pdf, signed_in
from tests.loans.conftest import approve_all, local, request_loan

CONTRACT = make_pdf("房地产买卖合同", "甲方：丽景苑置业有限公司", pages=2)
LETTER = make_pdf("深圳市南山区人民法院", "协助调查函 （2026）粤0305民初1234号")
OFFICER_ID = "440305198001011234"


def fresh(model, id_):
    """The row as the database has it now (the pages changed it in transactions of their own)."""
    db.session.expire_all()
    return db.session.get(model, id_)


def audit_details(action: str) -> list[dict]:
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [json.loads(row.details) for row in rows]


def chinese(label_or_message, **params) -> str:
    """An enum member's label, or a message, as the Chinese catalogue gives it."""
    with current_app.test_request_context(), force_locale("zh_Hans"):
        if hasattr(label_or_message, "label"):
            return label_or_message.label
        return gettext(label_or_message, **params)


def decide_form(client, loan_id: int, step_id: int, decision: str, comment: str = ""):
    return client.post(f"/loans/{loan_id}/steps/{step_id}", data={
        "csrf_token": csrf_token(client, f"/loans/{loan_id}"), "decision": decision, "comment": comment,
    })


@pytest.fixture
def contract(factory):
    """A SALES contract: the CSC borrower may read it only under a loan."""
    return factory.document(factory.dossier(), category="QY", title="房地产买卖合同", content=CONTRACT)


@pytest.fixture
def c_clerk(factory):
    """A customer-service clerk cleared for C only."""
    user = factory.user("csc-zhao", roles=(Role.CLERK,), department="CSC", clearance=Level.C)
    user.display_name = "赵小红"
    db.session.commit()
    return user


# The basket --------------------------------------------------------------------------------------------


def test_the_basket_is_filled_from_a_document_page_and_a_dossier_catalogue_within_clearance(
        clock, app, factory, staff, c_clerk):
    dossier = factory.dossier()
    repair = factory.document(dossier, department="CSC", category="WX", title="维修记录")
    offer = factory.document(dossier, category="XS", title="认购书")
    supplement = factory.document(dossier, category="QY", title="补充协议")
    receipt = factory.document(dossier, category="BZ", title="契税收据", level=Level.B)
    secret = factory.document(dossier, category="QY", title="股权转让协议（绝密）", level=Level.A)
    client = signed_in(app, factory, c_clerk)

    # Its own department's document: added from the document page, back on that page.
    page = html(client.get(f"/documents/{repair.id}"))
    assert "Add to my loan request" in page
    added = client.post("/loans/basket/documents", data={
        "csrf_token": csrf_token(client, f"/documents/{repair.id}"), "document_id": str(repair.id),
        "next": f"/documents/{repair.id}",
    })
    assert added.status_code == 302 and added.headers["Location"] == f"/documents/{repair.id}"
    assert "Added to your loan request (1 item(s) in it)." in html(client.get(f"/documents/{repair.id}"))

    # The dossier page leads to its catalogue, which lists only what a C clearance may ask for.
    assert f'href="/loans/dossiers/{dossier.id}"' in html(client.get(f"/dossiers/{dossier.id}"))
    catalogue = html(client.get(f"/loans/dossiers/{dossier.id}"))
    for shown in (offer, supplement):
        assert shown.archive_number in catalogue and shown.title in catalogue
    for hidden in (receipt, secret):
        assert hidden.archive_number not in catalogue and hidden.title not in catalogue
    assert "in your request" in catalogue  # the repair record, already asked for

    whole = client.post(f"/loans/basket/dossiers/{dossier.id}", data={
        "csrf_token": csrf_token(client, f"/loans/dossiers/{dossier.id}"), "next": f"/loans/dossiers/{dossier.id}",
    })
    assert whole.status_code == 302 and whole.headers["Location"] == f"/loans/dossiers/{dossier.id}"

    basket = html(client.get("/loans/basket"))
    for shown in (repair, offer, supplement):
        assert shown.archive_number in basket
    assert secret.title not in basket and receipt.title not in basket
    assert f"(from dossier {dossier.archive_number})" in basket
    # The chain the request would get: the archive, and the sales head since sales documents are asked for.
    assert "Every loan is approved by the archive" in basket
    assert "Head of the owning department 归档部门负责人: 项目销售组" in basket

    draft = services.basket(c_clerk)
    item = next(i for i in draft.items if i.document_id == supplement.id)
    removed = client.post(f"/loans/basket/items/{item.id}/remove",
                          data={"csrf_token": csrf_token(client, "/loans/basket")})
    assert removed.status_code == 302
    basket = html(client.get("/loans/basket"))
    assert supplement.archive_number not in basket and offer.archive_number in basket
    assert {i.document_id for i in fresh(Loan, draft.id).items} == {repair.id, offer.id}


def test_a_document_above_the_clearance_is_refused_with_the_reason(clock, app, factory, staff, c_clerk):
    secret = factory.document(factory.dossier(), category="QY", title="股权转让协议（绝密）", level=Level.A)
    client = signed_in(app, factory, c_clerk)

    response = client.post("/loans/basket/documents", data={
        "csrf_token": csrf_token(client, "/loans/basket"), "document_id": str(secret.id),
    }, follow_redirects=True)

    assert "Your clearance does not reach level" in html(response)
    assert f"so {secret.archive_number} cannot be requested" in html(response)
    assert services.basket(c_clerk) is None


def test_sending_the_basket_shows_the_loan_with_its_approval_chain(clock, app, factory, staff, borrower, contract):
    client = signed_in(app, factory, borrower)
    services.add_documents(borrower, [contract.id])

    sent = client.post("/loans/basket/submit", data={
        "csrf_token": csrf_token(client, "/loans/basket"), "use": "view", "purpose": "核对业主押金退还情况",
        "start_date": "2026-09-28", "due_date": "2026-10-04",
    })

    loan = db.session.scalars(sa.select(Loan).where(Loan.borrower_id == borrower.id)).one()
    assert sent.status_code == 302 and sent.headers["Location"] == f"/loans/{loan.id}"
    page = html(client.get(sent.headers["Location"]))
    assert "Loan request JY-2026-00001 is sent for approval." in page
    assert "Loan JY-2026-00001" in page and "Waiting for approval" in page
    assert "核对业主押金退还情况" in page and "2026-09-28 – 2026-10-04" in page
    assert contract.archive_number in page
    assert "Archive 档案室" in page and "Every loan is approved by the archive" in page
    assert "项目销售组" in page and "The borrower is from another department" in page
    assert page.count("Waiting</td>") == 2
    assert services.basket(borrower) is None
    # The borrower's list of loans has it.
    assert "JY-2026-00001" in html(client.get("/loans/"))


def test_an_invalid_period_is_refused_with_the_reason_and_the_basket_stays(
        clock, app, factory, staff, borrower, contract):
    client = signed_in(app, factory, borrower)
    draft = services.add_documents(borrower, [contract.id])

    too_long = client.post("/loans/basket/submit", data={
        "csrf_token": csrf_token(client, "/loans/basket"), "use": "view", "purpose": "核对业主押金退还情况",
        "start_date": "2026-09-28", "due_date": "2026-10-18",
    })

    assert too_long.status_code == 400
    page = html(too_long)
    assert "A loan may run at most 14 days: until 2026-10-11 at the latest." in page
    assert contract.archive_number in page and "核对业主押金退还情况" in page  # nothing typed is lost
    assert 'value="2026-10-18"' in page
    loan = fresh(Loan, draft.id)
    assert loan.status is LoanStatus.DRAFT and loan.number is None and len(loan.items) == 1

    in_the_past = client.post("/loans/basket/submit", data={
        "csrf_token": csrf_token(client, "/loans/basket"), "use": "view", "purpose": "核对",
        "start_date": "2026-09-27", "due_date": "2026-09-30",
    })
    assert in_the_past.status_code == 400 and "A loan cannot start in the past." in html(in_the_past)

    no_purpose = client.post("/loans/basket/submit", data={
        "csrf_token": csrf_token(client, "/loans/basket"), "use": "view", "purpose": "",
        "start_date": "2026-09-28", "due_date": "2026-09-30",
    })
    assert no_purpose.status_code == 400 and "This field is required." in html(no_purpose)
    assert fresh(Loan, draft.id).status is LoanStatus.DRAFT


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(clock, app, factory, staff, borrower, contract):
    client = signed_in(app, factory, borrower)
    other = factory.document(contract.dossier, category="XS", title="认购书")

    refused = client.post("/loans/basket/documents", data={"document_id": str(contract.id)})
    assert refused.status_code == 400
    assert "The form has expired or was not sent from this site." in html(refused)
    assert client.post(f"/loans/basket/dossiers/{contract.dossier_id}").status_code == 400
    assert services.basket(borrower) is None

    draft = services.add_documents(borrower, [contract.id, other.id])
    item_id = draft.items[0].id
    assert client.post(f"/loans/basket/items/{item_id}/remove").status_code == 400
    assert client.post("/loans/basket/submit", data={
        "use": "view", "purpose": "核对", "start_date": "2026-09-28", "due_date": "2026-09-30",
    }).status_code == 400
    loan = fresh(Loan, draft.id)
    assert loan.status is LoanStatus.DRAFT and len(loan.items) == 2


# Approvals ---------------------------------------------------------------------------------------------


def test_approvers_find_the_request_in_their_inbox_and_decide_it(clock, app, factory, staff, borrower, contract):
    loan = request_loan(borrower, [contract])
    archive_step, sales_step = loan.steps
    archivist = signed_in(app, factory, staff.archivist)
    sales_head = signed_in(app, factory, staff.heads["SALES"])

    inbox = html(archivist.get("/loans/inbox"))
    assert loan.number in inbox and "王小明" in inbox and "Every loan is approved by the archive" in inbox
    inbox = html(sales_head.get("/loans/inbox"))
    assert loan.number in inbox and "The borrower is from another department" in inbox
    assert "Nothing waits for your decision." in html(signed_in(app, factory, staff.heads["FIN"]).get("/loans/inbox"))

    # The sales head sees the form for the sales step only.
    page = html(sales_head.get(f"/loans/{loan.id}"))
    assert f'action="/loans/{loan.id}/steps/{sales_step.id}"' in page
    assert f'action="/loans/{loan.id}/steps/{archive_step.id}"' not in page
    assert "You are asked because: The borrower is from another department" in page

    approved = decide_form(sales_head, loan.id, sales_step.id, "approved")
    assert approved.status_code == 302 and approved.headers["Location"] == f"/loans/{loan.id}"
    page = html(sales_head.get(f"/loans/{loan.id}"))
    assert "You approved this request." in page and "Waiting for approval" in page
    assert fresh(LoanStep, sales_step.id).decided_by_id == staff.heads["SALES"].id
    assert loan.number not in html(sales_head.get("/loans/inbox"))

    approved = decide_form(archivist, loan.id, archive_step.id, "approved")
    assert approved.status_code == 302
    page = html(archivist.get(f"/loans/{loan.id}"))
    assert "Issued" in page and "Record the decision" not in page  # electronic: open at once
    assert fresh(Loan, loan.id).status is LoanStatus.ISSUED


def test_a_rejection_needs_a_reason(clock, app, factory, staff, borrower, contract):
    loan = request_loan(borrower, [contract])
    archive_step = loan.steps[0]
    archivist = signed_in(app, factory, staff.archivist)

    refused = decide_form(archivist, loan.id, archive_step.id, "rejected", "  ")

    assert refused.status_code == 400
    page = html(refused)
    assert "Give the reason for the rejection." in page
    assert '<option selected value="rejected">' in page  # the choice made is kept, not reset to approve
    assert fresh(LoanStep, archive_step.id).decision is None
    assert fresh(Loan, loan.id).status is LoanStatus.SUBMITTED

    rejected = decide_form(archivist, loan.id, archive_step.id, "rejected", "用途与所借合同无关")
    assert rejected.status_code == 302
    page = html(archivist.get(f"/loans/{loan.id}"))
    assert "You rejected this request." in page and "Rejected" in page and "用途与所借合同无关" in page
    assert fresh(Loan, loan.id).status is LoanStatus.REJECTED
    # The borrower reads the outcome and the reason.
    page = html(signed_in(app, factory, borrower).get(f"/loans/{loan.id}"))
    assert "Rejected" in page and "用途与所借合同无关" in page


def test_people_who_may_not_decide_are_refused_and_nothing_changes(clock, app, factory, staff, borrower, contract):
    loan = request_loan(borrower, [contract])
    archive_step, sales_step = loan.steps
    own_head = signed_in(app, factory, staff.heads["CSC"])  # may read the loan: heads the borrower's department
    finance_head = signed_in(app, factory, staff.heads["FIN"])  # has nothing to do with it
    own = signed_in(app, factory, borrower)

    page = html(own_head.get(f"/loans/{loan.id}"))
    assert loan.number in page and "Record the decision" not in page
    assert decide_form(own_head, loan.id, sales_step.id, "approved").status_code == 404
    assert finance_head.get(f"/loans/{loan.id}").status_code == 404
    assert decide_form(finance_head, loan.id, archive_step.id, "approved").status_code == 404

    # The borrower sees the chain but never a form to decide it, and cannot post one either.
    page = html(own.get(f"/loans/{loan.id}"))
    assert "Archive 档案室" in page
    assert "Record the decision" not in page and "/steps/" not in page
    self_approval = decide_form(own, loan.id, archive_step.id, "approved")
    assert self_approval.status_code == 400 and "Nobody approves their own request." in html(self_approval)

    # A step named under another loan's address is not decided through it.
    other = request_loan(borrower, [factory.document(contract.dossier, title="认购书")])
    archivist = signed_in(app, factory, staff.archivist)
    assert decide_form(archivist, other.id, archive_step.id, "approved").status_code == 404

    db.session.expire_all()
    assert all(step.decision is None for step in fresh(Loan, loan.id).steps)
    assert fresh(Loan, loan.id).status is LoanStatus.SUBMITTED
    assert "decide" in [e.get("attempted") for e in audit_details("access.denied")]


# Reading under an electronic loan ----------------------------------------------------------------------


def test_an_electronic_loan_is_read_watermarked_and_ends_when_access_is_ended(
        clock, app, factory, staff, borrower, contract):
    loan = approve_all(request_loan(borrower, [contract], use=LoanUse.VIEW), staff)
    client = signed_in(app, factory, borrower)
    view_url = f"/loans/{loan.id}/documents/{contract.id}/view"

    page = html(client.get(f"/documents/{contract.id}"))
    assert f"Read under loan {loan.number}" in page and f'href="{view_url}"' in page
    assert "/download" not in page and "/preview" not in page and "Download" not in page
    assert f'href="{view_url}"' in html(client.get(f"/loans/{loan.id}"))

    rendition = client.get(view_url)
    assert rendition.status_code == 200 and rendition.mimetype == "application/pdf"
    assert rendition.headers["Cache-Control"] == "private, no-store"
    pages = PdfReader(io.BytesIO(rendition.get_data())).pages
    assert len(pages) == 2
    for number, pdf_page in enumerate(pages, start=1):
        text = pdf_page.extract_text()
        for part in ("王小明", "客户服务中心", loan.number):
            assert part in text, (number, part)
        assert re.search(r"2026-09-28 09:\d\d", text), number  # local (Shanghai) time of reading
        assert "房地产买卖合同" in text  # over the original content
    (viewed,) = audit_details("loan.view")
    assert viewed["number"] == loan.number and viewed["document"] == contract.archive_number

    assert client.get(f"/documents/{contract.id}/download").status_code == 404
    assert client.get(f"/documents/{contract.id}/preview").status_code == 404
    # Nobody else reads under this loan, not even the archivist who may read the document itself.
    for other in (factory.user("csc-li", roles=(Role.CLERK,), department="CSC", clearance=Level.B),
                  staff.archivist):
        assert signed_in(app, factory, other).get(view_url).status_code == 404
    assert len(audit_details("loan.view")) == 1

    ended = client.post(f"/loans/{loan.id}/end", data={"csrf_token": csrf_token(client, f"/loans/{loan.id}")})
    assert ended.status_code == 302
    page = html(client.get(f"/loans/{loan.id}"))
    assert "Access is ended." in page and "Returned" in page and view_url not in page
    assert client.get(view_url).status_code == 404
    assert client.get(f"/documents/{contract.id}").status_code == 404
    assert fresh(Loan, loan.id).status is LoanStatus.RETURNED


# Paper loans through the desk --------------------------------------------------------------------------


def test_a_paper_loan_is_issued_and_checked_back_item_by_item_at_the_desk(
        clock, app, factory, staff, borrower, contract):
    receipt = factory.document(contract.dossier, category="BZ", title="契税收据",
                               content=make_pdf("契税收据", pages=3))
    loan = approve_all(request_loan(borrower, [contract, receipt], use=LoanUse.READING_ROOM), staff)
    contract_item, receipt_item = loan.items
    desk = signed_in(app, factory, staff.archivist)

    # A clerk has no desk: the policy refuses the page itself (no object to hide, so 403).
    clerk = signed_in(app, factory, borrower)
    assert clerk.get("/loans/desk").status_code == 403
    assert "/loans/desk" not in html(clerk.get("/loans/"))

    page = html(desk.get("/loans/desk"))
    to_issue = page.split("To issue", 1)[1].split("Due back today", 1)[0]
    assert loan.number in to_issue and "王小明" in to_issue

    # The borrower cannot issue it to themself.
    refused = clerk.post(f"/loans/{loan.id}/issue", data={
        "csrf_token": csrf_token(clerk, f"/loans/{loan.id}"), f"pages-{contract_item.id}": "2"})
    assert refused.status_code == 404 and fresh(Loan, loan.id).status is LoanStatus.APPROVED

    issued = desk.post(f"/loans/{loan.id}/issue", data={
        "csrf_token": csrf_token(desk, f"/loans/{loan.id}"),
        f"pages-{contract_item.id}": "2", f"pages-{receipt_item.id}": "3",
    })
    assert issued.status_code == 302
    page = html(desk.get(f"/loans/{loan.id}"))
    assert "The items are issued." in page and "Issued" in page and "Check the return" in page
    out = html(desk.get("/loans/desk")).split("Out on loan", 1)[1]
    assert loan.number in out

    # The receipt comes back damaged: the contract is back, the loan stays open and says why.
    checked = desk.post(f"/loans/{loan.id}/return", data={
        "csrf_token": csrf_token(desk, f"/loans/{loan.id}"),
        f"state-{contract_item.id}": "returned", f"pages-{contract_item.id}": "2",
        f"state-{receipt_item.id}": "damaged", f"pages-{receipt_item.id}": "3",
        f"note-{receipt_item.id}": "第2页撕破",
    })
    assert checked.status_code == 302
    page = html(desk.get(f"/loans/{loan.id}"))
    assert "The return is recorded." in page
    assert '<span class="status status-issued">Issued</span>' in page
    assert "Damaged" in page and "第2页撕破" in page
    assert f"{receipt.archive_number} damaged: 第2页撕破" in page  # the loan's note
    assert fresh(Loan, loan.id).status is LoanStatus.ISSUED

    # A wrong page count is refused with the reason and changes nothing.
    wrong = desk.post(f"/loans/{loan.id}/return", data={
        "csrf_token": csrf_token(desk, f"/loans/{loan.id}"),
        f"state-{receipt_item.id}": "returned", f"pages-{receipt_item.id}": "2",
    })
    assert wrong.status_code == 400
    assert f"{receipt.archive_number}: 2 pages counted, 3 were issued." in html(wrong)
    assert fresh(LoanItem, receipt_item.id).state is ItemState.DAMAGED

    # Mended and checked again: every item is back, the loan closes.
    closed = desk.post(f"/loans/{loan.id}/return", data={
        "csrf_token": csrf_token(desk, f"/loans/{loan.id}"),
        f"state-{receipt_item.id}": "returned", f"pages-{receipt_item.id}": "3",
    })
    assert closed.status_code == 302
    page = html(desk.get(f"/loans/{loan.id}"))
    assert '<span class="status status-returned">Returned</span>' in page and "Check the return" not in page
    assert fresh(Loan, loan.id).status is LoanStatus.RETURNED
    assert loan.number not in html(desk.get("/loans/desk"))


def test_the_borrower_cancels_a_request_and_asks_for_a_renewal_from_the_loan_page(
        clock, app, factory, staff, borrower, contract):
    waiting = request_loan(borrower, [contract])
    running = approve_all(request_loan(borrower, [contract], use=LoanUse.VIEW, days=3), staff)
    client = signed_in(app, factory, borrower)

    cancelled = client.post(f"/loans/{waiting.id}/cancel",
                            data={"csrf_token": csrf_token(client, f"/loans/{waiting.id}")})
    assert cancelled.status_code == 302
    page = html(client.get(f"/loans/{waiting.id}"))
    assert "The request is cancelled." in page and "Cancelled" in page and "Cancel the request" not in page
    assert waiting.number not in html(signed_in(app, factory, staff.archivist).get("/loans/inbox"))

    page = html(client.get(f"/loans/{running.id}"))
    assert "Ask for a renewal" in page
    too_short = client.post(f"/loans/{running.id}/renew", data={
        "csrf_token": csrf_token(client, f"/loans/{running.id}"), "due_date": "2026-09-30",
        "purpose": "核对尚未完成",
    })
    assert too_short.status_code == 400
    assert "A renewal must end after the current due date, 2026-09-30." in html(too_short)
    assert "核对尚未完成" in html(too_short)  # what was typed stays in the form

    renewed = client.post(f"/loans/{running.id}/renew", data={
        "csrf_token": csrf_token(client, f"/loans/{running.id}"), "due_date": "2026-10-09",
        "purpose": "核对尚未完成",
    })
    assert renewed.status_code == 302
    renewal = db.session.scalars(sa.select(Loan).where(Loan.renews_id == running.id)).one()
    assert renewed.headers["Location"] == f"/loans/{renewal.id}"
    page = html(client.get(renewed.headers["Location"]))
    assert f"Renewal {renewal.number} is sent for approval." in page
    assert f'href="/loans/{running.id}">{running.number}</a>' in page and "Waiting for approval" in page
    assert fresh(Loan, running.id).status is LoanStatus.ISSUED  # runs on while the renewal waits


# The slip ----------------------------------------------------------------------------------------------


def test_the_slip_names_the_loan_the_borrower_the_items_and_each_decision(
        clock, app, factory, staff, borrower, contract):
    receipt = factory.document(contract.dossier, category="BZ", title="契税收据")
    loan = approve_all(request_loan(borrower, [contract, receipt], use=LoanUse.READING_ROOM), staff)
    client = signed_in(app, factory, borrower)

    assert f'href="/loans/{loan.id}/slip.pdf"' in html(client.get(f"/loans/{loan.id}"))
    slip = client.get(f"/loans/{loan.id}/slip.pdf")

    assert slip.status_code == 200 and slip.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(slip.get_data())).pages)
    compact = re.sub(r"\s+", "", text)
    for part in (loan.number, "王小明", "客户服务中心", contract.archive_number, receipt.archive_number):
        assert part in compact, part
    for step in loan.steps:
        assert step.decided_by.display_name in compact
    assert chinese(Decision.APPROVED) == "已批准"
    assert compact.count("已批准") >= len(loan.steps)

    stranger = signed_in(app, factory, factory.user("csc-li", roles=(Role.CLERK,), department="CSC"))
    assert stranger.get(f"/loans/{loan.id}/slip.pdf").status_code == 404


# Consultations by outside parties ----------------------------------------------------------------------


def consultation_data(client, numbers: list[str], **changes) -> dict:
    return {
        "csrf_token": csrf_token(client, "/loans/consultations"), "agency_kind": "court",
        "agency_name": "深圳市南山区人民法院", "letter_reference": "（2026）粤0305民初1234号",
        "officer_names": "李法官", "officer_ids": OFFICER_ID, "purpose": "民事案件调查取证",
        "consulted_on": "2026-09-28", "archive_numbers": "\n".join(numbers),
        "letter": (io.BytesIO(LETTER), "协助调查函.pdf"), **changes,
    }


def test_an_archivist_registers_a_court_consultation_shown_masked_and_stored_encrypted(
        clock, app, factory, staff, contract):
    archivist = signed_in(app, factory, staff.archivist)
    assert "Register the consultation" in html(archivist.get("/loans/consultations"))

    registered = archivist.post("/loans/consultations", content_type="multipart/form-data",
                                data=consultation_data(archivist, [contract.archive_number]))

    assert registered.status_code == 302
    page = html(archivist.get("/loans/consultations"))
    assert "Consultation CY-2026-0001 is registered." in page
    assert "深圳市南山区人民法院" in page and "（2026）粤0305民初1234号" in page and contract.archive_number in page
    assert "4403**********1234" in page and OFFICER_ID not in page
    consultation = db.session.scalars(sa.select(Consultation)).one()
    assert OFFICER_ID not in consultation.officer_ids_sealed
    blob = Path(app.config["STORAGE_DIR"]) / "blobs" / consultation.letter_blob_id[:2] / \
        consultation.letter_blob_id[2:4] / consultation.letter_blob_id
    stored = blob.read_bytes()
    assert len(stored) >= len(LETTER)
    assert b"%PDF" not in stored and LETTER[:200] not in stored and LETTER[-200:] not in stored
    # The audit trail names the letter, never the officers' ID numbers.
    (event,) = audit_details("consultation.register")
    assert event["letter"] == "（2026）粤0305民初1234号" and OFFICER_ID not in json.dumps(event)


def test_a_consultation_of_a_document_the_archivist_cannot_read_is_refused(clock, app, factory, staff):
    archivist = signed_in(app, factory, staff.archivist)

    refused = archivist.post("/loans/consultations", content_type="multipart/form-data",
                             data=consultation_data(archivist, ["LJY-NOT-A-NUMBER"]))

    assert refused.status_code == 400
    assert "LJY-NOT-A-NUMBER is not the archive number of a document you can read." in html(refused)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consultation)) == 0


def test_a_clerk_sees_no_registration_form_and_cannot_register(clock, app, factory, staff, borrower, contract):
    client = signed_in(app, factory, borrower)
    blobs = Path(app.config["STORAGE_DIR"]) / "blobs"
    stored_before = {p for p in blobs.rglob("*") if p.is_file()}

    page = client.get("/loans/consultations")
    assert page.status_code == 200
    assert "Register the consultation" not in html(page) and 'name="officer_ids"' not in html(page)
    refused = client.post("/loans/consultations", content_type="multipart/form-data",
                          data=consultation_data(client, [contract.archive_number]))

    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consultation)) == 0
    assert {p for p in blobs.rglob("*") if p.is_file()} == stored_before


# Statistics, the sweep and notifications ---------------------------------------------------------------


def _counts(page: str, department: str) -> tuple[int, ...]:
    """Requested, approved, rejected and overdue of a department's row of the statistics table."""
    match = re.search(rf"<td>{department}</td><td>.*?</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>",
                      page)
    assert match, department
    return tuple(int(n) for n in match.groups())


def _overdue_now(page: str) -> int:
    match = re.search(r"<dt>Overdue now</dt><dd>(\d+)</dd>", page)
    assert match
    return int(match.group(1))


def test_statistics_count_requests_decisions_and_overdue_loans(clock, app, factory, staff, borrower, contract):
    approve_all(request_loan(borrower, [contract], use=LoanUse.VIEW), staff)
    paper = approve_all(request_loan(borrower, [contract], use=LoanUse.READING_ROOM, days=3), staff)
    services.issue(staff.archivist, paper.id)
    refused = request_loan(borrower, [contract])
    services.decide(staff.archivist, refused.steps[0].id, Decision.REJECTED, "无关")
    head = signed_in(app, factory, staff.archive_head)

    page = html(head.get("/loans/statistics"))
    assert _counts(page, "客户服务中心") == (3, 2, 1, 0)
    assert _overdue_now(page) == 0
    assert signed_in(app, factory, borrower).get("/loans/statistics").status_code == 403

    clock.move_to(local(2026, 10, 1, 0, 5))  # the paper loan was due back on 30 September
    result = services.sweep()
    assert (result.overdue, result.notified) == (1, 1)

    page = html(signed_in(app, factory, staff.archive_head).get("/loans/statistics"))
    assert _overdue_now(page) == 1
    assert _counts(page, "客户服务中心") == (3, 2, 1, 1)
    page = html(signed_in(app, factory, staff.archive_head).get(
        "/loans/statistics", query_string={"start": "2026-10-01", "end": "2026-10-31"}))
    assert "No loan requests in this period." in page and _overdue_now(page) == 1


def test_an_overdue_loan_is_announced_in_the_navigation_and_the_notification_list(
        clock, app, factory, staff, borrower, contract):
    paper = approve_all(request_loan(borrower, [contract], use=LoanUse.READING_ROOM, days=3), staff)
    services.issue(staff.archivist, paper.id)
    clock.move_to(local(2026, 10, 1, 8, 0))
    services.sweep()
    english = "Your loan JY-2026-00001 is overdue: it was due back on 2026-09-30. Please return it."

    client = signed_in(app, factory, borrower, english=False)  # Chinese, the default
    page = html(client.get("/loans/"))
    assert '<span class="count">1</span>' in page
    listing = html(client.get("/notifications"))
    translated = "您的借阅 JY-2026-00001 已逾期，应还日期为 2026-09-30，请尽快归还。"
    assert translated in listing and english not in listing

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    listing = html(client.get("/notifications"))
    assert english in listing and translated not in listing and "1 unread" in listing
    # The borrower's department head is told as well, with the borrower's name.
    head = signed_in(app, factory, staff.heads["CSC"])
    assert "Loan JY-2026-00001 of 王小明 is overdue: it was due back on 2026-09-30." in html(head.get("/notifications"))
    assert '<span class="count">1</span>' in html(head.get("/loans/"))


# Both languages ----------------------------------------------------------------------------------------


def test_the_loan_page_speaks_chinese_by_default_and_english_on_request(
        clock, app, factory, staff, borrower, contract):
    loan = request_loan(borrower, [contract])
    client = signed_in(app, factory, borrower, english=False)

    page = html(client.get(f"/loans/{loan.id}"))
    waiting = "待审批"
    assert chinese(LoanStatus.SUBMITTED) == waiting
    assert f'<span class="status status-submitted">{waiting}</span>' in page
    assert "Waiting for approval" not in page

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    page = html(client.get(f"/loans/{loan.id}"))
    assert '<span class="status status-submitted">Waiting for approval</span>' in page
    assert waiting not in page

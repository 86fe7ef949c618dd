"""A loan in a real Chromium, in Chinese and in English: request, approve, read the watermarked copy, return."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from archive.core.enums import Role
from archive.core.types import utcnow
from archive.extensions import db
from tests.factories import PASSWORD, make_pdf

pytestmark = pytest.mark.browser

TEXTS = {
    "zh-CN": {"approved": "已批准", "issued": "已借出", "returned": "已归还", "read": "阅读（带水印）"},
    "en-GB": {"approved": "Approved", "issued": "Issued", "returned": "Returned", "read": "Read (watermarked)"},
}


def _log_in(page, server, username):
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _log_out(page, server):
    page.goto(f"{server}/loans/")
    page.click("header form[action='/logout'] button")
    page.wait_for_url(f"{server}/login*")


@pytest.mark.parametrize("page", ["zh-CN", "en-GB"], indirect=True)
def test_request_approve_read_watermarked_and_return(app, factory, live_server, page):
    texts = TEXTS[page.evaluate("navigator.language")]
    dossier = factory.dossier()
    document = factory.document(dossier, department="SALES", title="认购书",
                                content=make_pdf("认购书", "押金 人民币 5,000 元", pages=2))
    borrower = factory.user("csc-wang", roles=(Role.CLERK,), department="CSC")
    borrower.display_name = "王小明"
    sales_head = factory.user("sales-head", roles=(Role.DEPT_HEAD,), department="SALES")
    archivist = factory.user("gmo-li", roles=(Role.ARCHIVIST,), department="GMO")
    ids = dict(dossier=dossier.id, document=document.id, number=document.archive_number)
    borrower, approvers = borrower.username, [sales_head.username, archivist.username]
    db.session.commit()  # and touch no model after it: on SQLite a new transaction holds the write lock
    today = (utcnow() + timedelta(hours=8)).date()

    # The borrower cannot read another department's document, so asks to borrow it from the dossier.
    _log_in(page, live_server, borrower)
    page.goto(f"{live_server}/dossiers/{ids['dossier']}")
    page.click(f"a[href='/loans/dossiers/{ids['dossier']}']")
    page.check(f"input[name=document_id][value='{ids['document']}']")
    page.click("form[action='/loans/basket/documents'] button[type=submit]")
    page.goto(f"{live_server}/loans/basket")
    assert ids["number"] in page.content()
    page.select_option("select[name=use]", "view")
    page.fill("input[name=start_date]", today.isoformat())
    page.fill("input[name=due_date]", (today + timedelta(days=3)).isoformat())
    page.fill("textarea[name=purpose]", "核对业主押金退还情况")
    page.click("form[action='/loans/basket/submit'] button[type=submit]")
    page.wait_for_url(f"{live_server}/loans/*")
    loan_url = page.url
    _log_out(page, live_server)

    # Both approvers find it in their inbox and approve it.
    for approver in approvers:
        _log_in(page, live_server, approver)
        page.goto(f"{live_server}/loans/inbox")
        page.click("main table a[href^='/loans/']")
        page.select_option("form[action*='/steps/'] select[name=decision]", "approved")
        page.click("form[action*='/steps/'] button[type=submit]")
        page.wait_for_url(loan_url)
        _log_out(page, live_server)

    _log_in(page, live_server, borrower)
    page.goto(loan_url)
    assert texts["issued"] in page.inner_text("h1")
    view_link = page.locator(f"a[href$='/documents/{ids['document']}/view']")
    assert view_link.inner_text().strip() == texts["read"]
    # Headless Chromium shows no PDF: fetch the rendition with the browser's own session and read it.
    view_href = view_link.get_attribute("href")
    response = page.request.get(live_server + view_href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.body())).pages
    assert len(pages) == 2
    for pdf_page in pages:
        text = pdf_page.extract_text()
        assert "王小明" in text and "JY-" in text and "押金" in text
    # The original file itself stays out of reach under a view-only loan.
    assert page.request.get(f"{live_server}/documents/{ids['document']}/download").status == 404

    page.click("form[action$='/end'] button[type=submit]")
    page.wait_for_url(loan_url)
    assert texts["returned"] in page.inner_text("h1")
    assert page.request.get(live_server + view_href).status == 404

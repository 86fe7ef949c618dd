"""A handover in a real Chromium, in Chinese and in English: assemble, sign off, send, check, accept, receipt."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from archive.core.enums import Category, Role
from archive.extensions import db
from archive.handovers.deadlines import ensure_default_rules
from tests.browser.test_loan_flow import _log_in
from tests.factories import make_pdf

pytestmark = pytest.mark.browser

COMPLETED = {"zh-CN": "已完成", "en-GB": "Completed"}


def _log_out(page, server):
    page.goto(f"{server}/handovers/")
    page.click("header form[action='/logout'] button")
    page.wait_for_url(f"{server}/login*")


def _press(page, action: str):
    page.click(f"form button[name=action][value={action}]")
    page.wait_for_load_state()


@pytest.mark.parametrize("page", ["zh-CN", "en-GB"], indirect=True)
def test_assemble_sign_off_send_check_accept_and_print_the_receipt(app, factory, live_server, page):
    ensure_default_rules()
    dossier = factory.dossier()
    document = factory.document(dossier, category=Category.XS, department="SALES", title="认购书",
                                content=make_pdf("认购书", "认购人：王小明", pages=2))
    clerk = factory.user("sales-li", roles=(Role.CLERK,), department="SALES")
    head = factory.user("sales-head", roles=(Role.DEPT_HEAD,), department="SALES")
    receiver = factory.user("ca-chen", roles=(Role.CLERK,), department="CA")
    number, clerk, head, receiver = document.archive_number, clerk.username, head.username, receiver.username
    db.session.commit()  # and touch no model after it: on SQLite a new transaction holds the write lock

    # The sales clerk assembles a batch under the sales → customer affairs rule and picks the document.
    _log_in(page, live_server, clerk)
    page.goto(f"{live_server}/handovers/")
    page.click("form[action='/handovers/new'] button[type=submit]")
    page.wait_for_url(f"{live_server}/handovers/*")
    batch_url = page.url
    page.check("input[name=document_id] >> nth=0")
    page.click("form[action$='/documents'] button[type=submit]")
    page.wait_for_url(batch_url)
    assert number in page.inner_text("main table")
    _log_out(page, live_server)

    _log_in(page, live_server, head)
    page.goto(batch_url)
    _press(page, "sign_off")
    _log_out(page, live_server)

    _log_in(page, live_server, clerk)
    page.goto(batch_url)
    _press(page, "send")
    _log_out(page, live_server)

    # Customer affairs counts the item (2 pages), the four-property check runs, and confirms.
    _log_in(page, live_server, receiver)
    page.goto(batch_url)
    page.click("form.check-form button[type=submit]")
    page.wait_for_url(batch_url)
    _press(page, "confirm_receipt")
    _log_out(page, live_server)

    _log_in(page, live_server, clerk)
    page.goto(batch_url)
    _press(page, "confirm_sending")
    assert COMPLETED[page.evaluate("navigator.language")] in page.inner_text("h1")
    receipt_href = page.get_attribute("a[href$='/receipt.pdf']", "href")
    response = page.request.get(live_server + receipt_href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert number in text and "认购书" in text

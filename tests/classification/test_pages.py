"""The classification pages as people meet them, through real HTTP requests with real CSRF tokens: the link on
the document page, the request form, the approvers' list, decisions and refusals, in English and Chinese."""
from __future__ import annotations

import re

from archive.auth.services import department_by_code
from archive.classification.models import ChangeStatus, ClassificationChange
from archive.core.enums import Level
from archive.documents.models import Document
from tests.classification.conftest import fresh
from tests.factories import csrf_token, html, signed_in


def test_request_approve_and_refusals_through_the_pages(app, factory, people, document):
    requester = signed_in(app, factory, people.requester)
    page = html(requester.get(f"/documents/{document.id}"))
    form_path = f"/documents/{document.id}/classification"
    assert f'href="{form_path}"' in page and "Change classification" in page

    fields = {"new_level": "A", "period": "date", "until": "2099-12-31", "reason": "涉及项目底价",
              "scope_department_ids": str(department_by_code("CA").id)}
    assert requester.post(form_path, data=fields).status_code == 400  # no CSRF token
    assert ClassificationChange.query.count() == 0
    refused = requester.post(form_path, data={**fields, "until": "2000-01-01", "csrf_token": csrf_token(
        requester, form_path)})
    assert refused.status_code == 400 and "The period must end after today." in html(refused)
    sent = requester.post(form_path, data={**fields, "csrf_token": csrf_token(requester, form_path)})
    assert sent.status_code == 302
    change = ClassificationChange.query.one()
    assert sent.headers["Location"].endswith(f"/classification/{change.id}")
    again = requester.post(form_path, data={**fields, "csrf_token": csrf_token(requester, form_path)})
    assert again.status_code == 400 and f"Request {change.number} for this document is still waiting" in html(again)

    head = signed_in(app, factory, people.sales_head)
    inbox = html(head.get("/classification/"))
    assert 'href="/classification/"' in inbox and change.number in inbox and document.archive_number in inbox
    change_path = f"/classification/{change.id}"
    decide_path = f"{change_path}/decide"
    assert head.post(decide_path, data={"step": "department_head", "decision": "approve"}).status_code == 400
    assert fresh(ClassificationChange, change.id).department_head_id is None  # no CSRF token, no decision
    no_reason = head.post(decide_path, data={"step": "department_head", "decision": "reject", "comment": "",
                                             "csrf_token": csrf_token(head, change_path)})
    assert no_reason.status_code == 400 and "Give the reason for the rejection." in html(no_reason)
    assert head.post(decide_path, data={"step": "department_head", "decision": "approve",
                                        "csrf_token": csrf_token(head, change_path)}).status_code == 302
    assert fresh(Document, document.id).level is Level.B
    # The requester cannot decide, and is offered no decision form.
    own_page = html(requester.get(change_path))
    assert 'name="step"' not in own_page
    own = requester.post(decide_path, data={"step": "archive_head", "decision": "approve",
                                            "csrf_token": csrf_token(requester, change_path)})
    assert own.status_code == 400 and "Nobody decides their own request." in html(own)

    archive_head = signed_in(app, factory, people.archive_head, english=False)  # Chinese
    chinese_page = html(archive_head.get(change_path))
    assert 'value="archive_head"' in chinese_page and "A 核心商密" in chinese_page
    assert archive_head.post(decide_path, data={"step": "archive_head", "decision": "approve",
                                                "csrf_token": csrf_token(archive_head, change_path)}).status_code == 302

    doc = fresh(Document, document.id)
    assert (doc.level, doc.level_until.isoformat()) == (Level.A, "2099-12-31")
    assert fresh(ClassificationChange, change.id).status is ChangeStatus.APPROVED
    page = html(requester.get(f"/documents/{document.id}"))
    assert re.search(r"Until a date\s+until 2099-12-31", page), page
    assert "Approved and applied" in html(requester.get(change_path))
    # Nothing left to decide; the cancel form is gone with the open request.
    assert change.number not in html(head.get("/classification/"))
    assert requester.post(f"{change_path}/cancel",
                          data={"csrf_token": csrf_token(requester, change_path)}).status_code == 409

"""The audit trail viewer: for compliance officers and the archive head, filtered, and itself audited."""
import json
import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from archive.audit import services as audit
from archive.audit.models import AuditEvent
from archive.core.enums import Role
from archive.core.uow import unit_of_work
from archive.extensions import db


@pytest.fixture
def officer(factory):
    return factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO")


def _rows(response) -> list[str]:
    """The table rows of the page, as plain text without tags."""
    html = response.get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>")[:-1]]


def _cells(response) -> list[list[str]]:
    """The table rows of the page, each as its cells' plain text."""
    html = response.get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in row.split("</td>")[:-1]]
            for row in body.split("</tr>")[:-1]]


def _actions(response) -> list[str]:
    """The action column (after number, time, actor and department) of each row."""
    return [cells[4] for cells in _cells(response) if len(cells) > 1]


def _record_at(monkeypatch, when: datetime, action: str) -> None:
    """An event recorded at a chosen moment, as if the clock said so."""
    with monkeypatch.context() as patch:
        patch.setattr(audit, "utcnow", lambda: when)
        with unit_of_work():
            audit.record(action, object_type="test", object_id=action)


@pytest.mark.parametrize("roles", [(Role.CLERK,), (Role.ADMIN,), (Role.ARCHIVIST,), (Role.DEPT_HEAD,)])
def test_viewer_is_403_for_everyone_but_compliance_and_archive_head(client, factory, roles):
    factory.user("someone", roles=roles, department="GMO")
    factory.login(client, "someone")

    assert client.get("/audit").status_code == 403
    assert client.get("/audit?actor=someone").status_code == 403
    assert "audit.view" not in db.session.scalars(sa.select(AuditEvent.action)).all()


@pytest.mark.parametrize("roles", [(Role.COMPLIANCE,), (Role.ARCHIVE_HEAD,)])
def test_viewer_lists_events_newest_first_and_records_the_reading(client, factory, roles):
    reader = factory.user("reader", roles=roles, department="GMO")
    factory.login(client, reader)

    response = client.get("/audit")

    assert response.status_code == 200
    rows = _rows(response)
    # Newest first: the reading itself, then the log-in, then the account's creation.
    assert [row.split()[0] for row in rows] == ["3", "2", "1"]
    assert _actions(response) == ["audit.view", "auth.login", "user.create"]
    assert "audit.view" in rows[0] and "reader" in rows[0]
    assert "auth.login" in rows[1] and "127.0.0.1" in rows[1] and "Success" in rows[1]
    assert "user.create" in rows[2] and "clearance: C" in rows[2]
    view = db.session.get(AuditEvent, 3)
    assert (view.action, view.actor_id) == ("audit.view", reader.id)


def test_times_are_shown_in_china_standard_time(client, factory, officer, monkeypatch):
    _record_at(monkeypatch, datetime(2024, 3, 1, 16, 30, 5, tzinfo=timezone.utc), "test.late")
    factory.login(client, officer)

    (row,) = [r for r in _rows(client.get("/audit")) if "test.late" in r]

    assert "2024-03-02 00:30:05" in row


def test_filters_by_action_prefix_actor_outcome_and_local_date(client, factory, officer, monkeypatch):
    clerk = factory.user("wang.li")
    document = factory.document(factory.dossier())
    with unit_of_work():
        audit.record("document.view", actor=clerk, obj=document)
        audit.record("document.download", actor=clerk, obj=document, outcome=audit.DENIED)
    # 23:59 and 00:01 in Shanghai on either side of midnight, 2 March 2024.
    _record_at(monkeypatch, datetime(2024, 3, 1, 15, 59, tzinfo=timezone.utc), "test.before_midnight")
    _record_at(monkeypatch, datetime(2024, 3, 1, 16, 1, tzinfo=timezone.utc), "test.after_midnight")
    factory.login(client, officer)

    def actions(**query) -> set[str]:
        response = client.get("/audit", query_string=query)
        assert response.status_code == 200
        return set(_actions(response))

    document_actions = actions(action="document.")
    assert {"document.view", "document.download"} <= document_actions
    assert all(action.startswith("document.") for action in document_actions)
    assert actions(actor="wang.li") == {"document.view", "document.download"}
    assert actions(outcome="denied") == {"document.download"}
    assert actions(date_from="2024-03-02", date_to="2024-03-02") == {"test.after_midnight"}
    assert actions(date_to="2024-03-01") == {"test.before_midnight"}
    assert actions(actor="wang.li", outcome="denied", action="document.") == {"document.download"}
    # Every reading is recorded with the filters used.
    views = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.view")).all()
    assert {"filters": {"actor": "wang.li", "outcome": "denied", "action": "document."}, "page": 1} in [
        json.loads(v.details) for v in views
    ]


def test_invalid_filter_is_explained(client, factory, officer):
    factory.login(client, officer)

    response = client.get("/audit", query_string={"date_from": "yesterday"})

    assert response.status_code == 400
    assert "The filters were not applied" in response.get_data(as_text=True)


def test_pages_keep_the_filters(client, factory, officer):
    with unit_of_work():
        for n in range(60):
            audit.record("test.bulk", object_type="test", object_id=str(n))
    factory.login(client, officer)

    first = client.get("/audit", query_string={"action": "test."})
    next_link = re.search(r'href="([^"]*page=2[^"]*)"', first.get_data(as_text=True)).group(1).replace("&amp;", "&")
    second = client.get(next_link)

    assert len(_rows(first)) == 50 and "action=test." in next_link
    assert len(_rows(second)) == 10
    assert all("test.bulk" in row for row in _rows(first) + _rows(second))

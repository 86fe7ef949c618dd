"""Filtering the trail by person, department, document and dossier, on events made by real actions."""
from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from archive.audit import services as audit
from archive.audit.models import AuditEvent
from archive.auth import services as auth
from archive.core.enums import Level, Role
from archive.core.uow import unit_of_work
from archive.documents.models import Document
from archive.extensions import db
from archive.units.models import Dossier
from tests.audit.test_viewer import _cells
from tests.auth.conftest import browser
from tests.loans.conftest import clock, request_loan  # noqa: F401 (the loan clock fixture)


@dataclass
class Trail:
    officer: object
    clerk: object  # SALES: opens the subscription and its dossier
    borrower: object  # CSC: asks to borrow the subscription
    subscription: Document
    contract: Document  # same dossier as the subscription
    other: Document  # another dossier
    dossier: Dossier
    loan_number: str


@pytest.fixture
def trail(app, clock, client, factory) -> Trail:
    """Two dossiers filed, a clerk opening a document and its dossier through the pages, a loan requested;
    `client` is then the compliance officer's browser."""
    dossier = factory.dossier(unit="2-1502")
    subscription = factory.document(dossier, title="认购书", filename="认购书扫描件.pdf")
    contract = factory.document(dossier, category="QY", title="房地产买卖合同")
    other = factory.document(factory.dossier(unit="2-1503", unit_name="2单元1503"), title="认购书")
    clerk = factory.user("sales-li", department="SALES")
    # The loan's approvers must exist for the request to be accepted.
    factory.user("gmo-archivist", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    factory.user("head-sales", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A)
    borrower = factory.user("csc-wang", department="CSC", clearance=Level.B)
    clerk_browser = browser(app)
    factory.login(clerk_browser, clerk)
    assert clerk_browser.get(f"/documents/{subscription.id}").status_code == 200
    assert clerk_browser.get(f"/dossiers/{dossier.id}").status_code == 200
    loan = request_loan(borrower, [subscription])
    officer = factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO")
    factory.login(client, officer)
    return Trail(officer, clerk, borrower, subscription, contract, other, dossier, loan.number)


def _shown(client, **query) -> list[tuple[str, str, str]]:
    """(actor, action, object) of each row the page shows for these filters, leaving out the page's own reading."""
    response = client.get("/audit", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(c[2], c[4], c[5]) for c in _cells(response) if len(c) > 1 and c[4] != "audit.view"]


def test_document_and_dossier_filters_find_their_events_and_those_naming_them(client, trail):
    shown = _shown(client, document=trail.subscription.archive_number)

    assert {(action, obj) for _, action, obj in shown} >= {
        ("document.upload", f"document {trail.subscription.id}"),
        ("document.view", f"document {trail.subscription.id}"),
    }
    (loan_event,) = [row for row in shown if row[1] == "loan.submit"]
    assert loan_event[0] == "csc-wang"
    # Nothing about the other documents, even in the same dossier, nor the dossier's own page.
    assert not [row for row in shown if row[2] in (f"document {trail.contract.id}", f"document {trail.other.id}")]
    assert "dossier.view" not in {action for _, action, _ in shown}

    # The dossier filter adds the dossier's own events and those of all its documents.
    shown = _shown(client, dossier=trail.dossier.archive_number)
    objects = {obj for _, _, obj in shown}

    assert {f"document {trail.subscription.id}", f"document {trail.contract.id}",
            f"dossier {trail.dossier.id}"} <= objects
    assert ("sales-li", "dossier.view", f"dossier {trail.dossier.id}") in shown
    assert "loan.submit" in {action for _, action, _ in shown}
    assert f"document {trail.other.id}" not in objects


def test_person_and_department_filters_and_their_combination(client, trail):
    assert {action for _, action, _ in _shown(client, actor="sales-li")} == {
        "auth.login", "document.view", "dossier.view"}
    by_csc = _shown(client, department="CSC")
    assert {actor for actor, _, _ in by_csc} == {"csc-wang"}
    assert "loan.submit" in {action for _, action, _ in by_csc}
    by_sales = _shown(client, department="SALES")
    assert {actor for actor, _, _ in by_sales} == {"sales-li"}

    # Filters combine, and the reading records them.
    shown = _shown(client, dossier=trail.dossier.archive_number, actor="sales-li", action="document.")
    assert shown == [("sales-li", "document.view", f"document {trail.subscription.id}")]
    views = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.view")).all()
    assert {"dossier": trail.dossier.archive_number, "actor": "sales-li", "action": "document."} in [
        json.loads(v.details)["filters"] for v in views]


def test_department_is_the_one_recorded_with_the_event(client, factory, trail):
    """A move to another department does not carry the person's past events along; only events recorded
    before the department was kept (here: one without it) follow the person's current department."""
    with unit_of_work():
        audit.record("test.before_departments_were_recorded",
                     actor=SimpleNamespace(id=trail.clerk.id, username=trail.clerk.username))
    auth.update_user(auth.SYSTEM, trail.clerk.id, display_name="李明", department_code="FIN",
                     roles={Role.CLERK}, clearance=trail.clerk.clearance, active=True)

    by_sales = {action for actor, action, _ in _shown(client, department="SALES") if actor == "sales-li"}
    by_fin = {action for actor, action, _ in _shown(client, department="FIN") if actor == "sales-li"}

    assert {"document.view", "dossier.view"} <= by_sales
    assert "test.before_departments_were_recorded" not in by_sales
    assert by_fin == {"test.before_departments_were_recorded"}
    row = [c for c in _cells(client.get("/audit", query_string={"actor": "sales-li"})) if c[4] == "document.view"][0]
    assert row[3] == "项目销售组 (SALES)"


def test_unknown_filter_values_are_explained(client, factory):
    factory.login(client, factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO"))

    for query, message in [
        ({"document": "QZ01-NONE-XS-0001"}, "No document has the archive number QZ01-NONE-XS-0001."),
        ({"dossier": "QZ01-NONE"}, "No dossier has the archive number QZ01-NONE."),
        ({"department": "NOPE"}, "The filters were not applied"),
    ]:
        response = client.get("/audit", query_string=query)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)

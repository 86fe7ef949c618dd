"""The dates that start handover clocks: a project's collective move-in, a litigation file's closing."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Category, Role
from archive.extensions import db
from archive.handovers.deadlines import due_date, ensure_default_rules, rule_for
from archive.units import services as units
from archive.units.models import Dossier, Project
from tests.factories import login_in_english
from tests.units.helpers import archivist, post_form


def test_archivist_records_the_move_in_and_the_contract_papers_fall_due_a_month_later(client, factory):
    ensure_default_rules()
    dossier = factory.dossier()
    contract = factory.document(dossier, category=Category.QY, department="CA", title="房地产买卖合同",
                                doc_date=date(2026, 3, 2))
    project_id = dossier.project_id
    login_in_english(client, factory, archivist(factory))

    page = f"/projects/{project_id}"
    response = post_form(client, page, f"{page}/move-in", "move_in", move_in_date="2026-03-20")

    assert response.status_code == 302
    assert "Collective move-in is recorded as 2026-03-20." in client.get(page).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Project, project_id).move_in_date == date(2026, 3, 20)
    document = db.session.merge(contract)
    assert due_date(document, rule_for(document)) == date(2026, 4, 20)  # a Monday, a working day
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "project.move_in")).one()
    assert '"new": "2026-03-20"' in event.details


def test_a_clerk_cannot_record_the_move_in(client, factory):
    dossier = factory.dossier()
    clerk = factory.user(roles=(Role.CLERK,), department="CA")
    login_in_english(client, factory, clerk)
    page = f"/projects/{dossier.project_id}"

    response = post_form(client, page, f"{page}/move-in", "move_in", move_in_date="2026-03-20")

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Project, dossier.project_id).move_in_date is None


def test_a_litigation_file_is_closed_but_not_a_unit_dossier_nor_in_the_future(client, factory):
    dossier = factory.dossier()
    litigation = units.create_litigation_file(factory.archivist, dossier.id, "王小明诉丽景苑置业房屋质量纠纷")
    litigation_id, unit_dossier_id = litigation.id, dossier.id
    login_in_english(client, factory, archivist(factory))

    page = f"/dossiers/{litigation_id}"
    closed = post_form(client, page, f"{page}/closed", "closed", closed_on="2026-06-30")
    assert closed.status_code == 302
    assert "The case is recorded as closed on 2026-06-30." in client.get(page).get_data(as_text=True)

    unit_page = f"/dossiers/{unit_dossier_id}"
    refused = post_form(client, unit_page, f"{unit_page}/closed", "closed", closed_on="2026-06-30")
    assert refused.status_code == 400
    assert "Only a litigation file has a case to close." in refused.get_data(as_text=True)

    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    future = post_form(client, page, f"{page}/closed", "closed", closed_on=tomorrow)
    assert future.status_code == 400
    db.session.expire_all()
    assert db.session.get(Dossier, litigation_id).closed_on == date(2026, 6, 30)
    assert db.session.get(Dossier, unit_dossier_id).closed_on is None

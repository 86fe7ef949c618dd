"""Handover fixtures: the default rules, the people on both sides, a clock the tests control, and short-cuts
that walk a batch through the real services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.auth.models import User
from archive.core.enums import Category, Level, Role
from archive.extensions import db
from archive.handovers import services
from archive.handovers.deadlines import ensure_default_rules
from archive.handovers.models import Handover, HandoverRule
from archive.auth import services as auth

SHANGHAI = timezone(timedelta(hours=8))


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture
def clock(time_machine):
    """Wednesday 25 February 2026, 09:00 in Shanghai, the first days after the Spring Festival; running."""
    time_machine.move_to(local(2026, 2, 25), tick=True)
    return time_machine


@pytest.fixture
def rules(app) -> dict[Category, HandoverRule]:
    ensure_default_rules()
    return {rule.category: rule for rule in db.session.scalars(sa.select(HandoverRule))}


@dataclass
class People:
    sales_clerk: User
    sales_clerk_b: User  # cleared for B: may hand over B documents
    sales_head: User
    ca_clerk: User
    ca_head: User
    archivist: User
    csc_clerk: User


@pytest.fixture
def people(factory) -> People:
    def make(name, role, department, clearance=Level.C):
        return factory.user(name, roles=(role,), department=department, clearance=clearance)

    return People(
        sales_clerk=make("sales-li", Role.CLERK, "SALES"),
        sales_clerk_b=make("sales-zhao", Role.CLERK, "SALES", Level.B),
        sales_head=make("sales-head", Role.DEPT_HEAD, "SALES", Level.A),
        ca_clerk=make("ca-chen", Role.CLERK, "CA", Level.B),
        ca_head=make("ca-head", Role.DEPT_HEAD, "CA", Level.A),
        archivist=make("gmo-sun", Role.ARCHIVIST, "GMO", Level.A),
        csc_clerk=make("csc-wu", Role.CLERK, "CSC", Level.B),
    )


def subscription(factory, dossier, *, title: str = "认购书", doc_date: date = date(2026, 2, 12),
                 level: Level = Level.C, **kwargs):
    """A sales group's 认购书 (XS), a real PDF."""
    from tests.factories import make_pdf

    return factory.document(dossier, category=Category.XS, department="SALES", title=title, doc_date=doc_date,
                            level=level, content=make_pdf(title, "认购人：王小明", "房号：3栋2单元1502"), **kwargs)


def sent_batch(people: People, rule: HandoverRule, documents, clerk: User | None = None) -> Handover:
    """A batch assembled by the sales clerk, signed off by the head and sent."""
    clerk = clerk or people.sales_clerk
    handover = services.create_batch(clerk, rule.id)
    services.add_documents(clerk, handover.id, [d.id for d in documents])
    services.sign_off(people.sales_head, handover.id)
    return services.send(clerk, handover.id)


def check_all(receiver: User, handover: Handover) -> Handover:
    """The receiver counts every line as listed (so paper lines are accepted) and confirms."""
    for item in list(db.session.get(Handover, handover.id).items):
        services.check_item(receiver, item.id, counted_items=item.item_count, counted_pages=item.pages)
    return services.confirm_receipt(receiver, handover.id)


def audit_actions(prefix: str = "handover.") -> list[str]:
    return list(db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.seq)))


def department_id(code: str) -> int:
    return auth.department_by_code(code).id

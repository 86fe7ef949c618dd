"""Classification fixtures: the requester, the approvers who may decide, those who may not, a SALES document,
and short-cuts that go through the real services."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.auth.models import User
from archive.classification import services
from archive.classification.models import ApprovalStep, ClassificationChange
from archive.core.enums import Level, LevelPeriod, Role
from archive.documents.models import Document
from archive.extensions import db


@dataclass
class People:
    requester: User  # a SALES clerk cleared for A: may edit SALES documents
    sales_head: User  # decides the department's step
    archive_head: User  # decides the GM office's step


@pytest.fixture
def people(factory) -> People:
    return People(
        requester=factory.user("sales-li", roles=(Role.CLERK,), department="SALES", clearance=Level.A),
        sales_head=factory.user("sales-head", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A),
        archive_head=factory.user("gmo-head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A),
    )


@pytest.fixture
def document(factory) -> Document:
    """A B-level SALES document: a discount approval (优惠审批)."""
    return factory.document(factory.dossier(), level=Level.B, title="优惠审批表", department="SALES")


def ask(requester, document, *, level=Level.A, period=LevelPeriod.LONG_TERM, until: date | None = None,
        reason="涉及项目底价，需提升密级", departments=(), users=()) -> ClassificationChange:
    return services.request_change(requester, document.id, new_level=level, period=period, until=until,
                                   reason=reason, scope_department_ids=list(departments),
                                   scope_user_ids=list(users))


def approve_both(change: ClassificationChange, people: People) -> ClassificationChange:
    services.decide(people.sales_head, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
    return services.decide(people.archive_head, change.id, ApprovalStep.ARCHIVE_HEAD, True)


def audit_details(action: str) -> list[dict]:
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [json.loads(row.details) for row in rows]


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)

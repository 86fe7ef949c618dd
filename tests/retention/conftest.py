"""Retention fixtures: an app whose text extraction and indexing run at once, the people of a disposal, expired
documents, and a short-cut that walks a disposal through the real services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from archive.auth.models import User
from archive.core.enums import Category, Level, Role
from archive.retention import services
from tests.conftest import make_app, running
from tests.factories import make_pdf


@pytest.fixture
def app(database_url, tmp_path):
    with running(make_app(database_url, tmp_path / "storage", QUEUE_IMMEDIATE=True)) as app:
        yield app


@dataclass
class People:
    archivist: User  # proposes
    head: User  # approves
    other_head: User
    compliance: User  # witnesses
    second_archivist: User  # witnesses
    low_archivist: User  # cleared for C only


@pytest.fixture
def people(factory) -> People:
    def make(name, role, clearance=Level.A):
        return factory.user(name, roles=(role,), department="GMO", clearance=clearance)

    return People(
        archivist=make("gmo-sun", Role.ARCHIVIST),
        head=make("gmo-head", Role.ARCHIVE_HEAD),
        other_head=make("gmo-head2", Role.ARCHIVE_HEAD),
        compliance=make("audit-qian", Role.COMPLIANCE),
        second_archivist=make("gmo-zhou", Role.ARCHIVIST),
        low_archivist=make("gmo-li", Role.ARCHIVIST, Level.C),
    )


def repair_order(factory, dossier, *, title: str = "维修工单 漏水", doc_date: date = date(2012, 3, 5),
                 level: Level = Level.C):
    """A customer service centre's repair order (WX, kept 10 years): a 2012 one expired at the end of 2022."""
    return factory.document(dossier, category=Category.WX, department="CSC", title=title, doc_date=doc_date,
                            level=level, content=make_pdf(title, "卫生间天花板渗水 已修复"))


def disposed(people: People, documents, reason: str = "保管期满，经鉴定无保存价值"):
    """Proposed, approved and witnessed twice: the documents are destroyed."""
    disposal = services.propose_disposal(people.archivist, [d.id for d in documents], reason)
    services.approve_disposal(people.head, disposal.id)
    services.confirm_witness(people.compliance, disposal.id)
    return services.confirm_witness(people.second_archivist, disposal.id)

"""Search follows an approved change at once: the index entry is rebuilt right after the commit."""
from __future__ import annotations

import pytest

from archive.core.enums import Level, LevelPeriod, Role
from archive.documents.models import Document
from archive.search import services as search
from tests.classification.conftest import approve_both, ask, fresh
from tests.conftest import make_app, running
from tests.factories import make_pdf


@pytest.fixture
def app(database_url, tmp_path):
    """Tasks (text extraction, indexing) run at once where they are queued, as the worker would run them."""
    with running(make_app(database_url, tmp_path / "storage", QUEUE_IMMEDIATE=True)) as app:
        yield app


def found(user, text: str) -> list[str]:
    return [hit.document.archive_number for hit in search.search(user, search.SearchQuery(text=text)).hits]


def test_search_reflects_a_raise_and_a_lowering_at_once(factory, people):
    document = factory.document(factory.dossier(), level=Level.B, title="优惠审批表",
                                content=make_pdf("优惠审批表", "特批折扣 九五折"))
    b_colleague = factory.user("sales-b", roles=(Role.CLERK,), department="SALES", clearance=Level.B)
    c_colleague = factory.user("sales-c", roles=(Role.CLERK,), department="SALES", clearance=Level.C)
    assert found(b_colleague, "特批折扣") == [document.archive_number]
    assert found(c_colleague, "特批折扣") == []

    approve_both(ask(people.requester, document, level=Level.A, period=LevelPeriod.LONG_TERM), people)
    assert found(b_colleague, "特批折扣") == []
    assert found(people.requester, "优惠审批表") == [document.archive_number]

    approve_both(ask(people.requester, fresh(Document, document.id), level=Level.C, period=None,
                     reason="已公布"), people)
    # Found by a C-cleared colleague: the index entry carries the new level (a stale one would say A).
    assert found(c_colleague, "特批折扣") == [document.archive_number]
    assert [f.value for f in search.search(c_colleague, search.SearchQuery(text="特批折扣")).facets["level"]] == ["C"]

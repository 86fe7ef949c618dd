"""API fixtures: an app whose indexing runs at once (search finds what was just filed), tokens made through
the real token service, and a client that sends them."""
from __future__ import annotations

import pytest

from archive.api import tokens
from tests.conftest import make_app, running
from tests.loans.conftest import borrower, clock, staff  # noqa: F401  (the loan fixtures, for the loan tests)

API = "/api/v1"


@pytest.fixture
def app(database_url, tmp_path):
    with running(make_app(database_url, tmp_path / "storage", QUEUE_IMMEDIATE=True)) as app:
        yield app


def bearer(user, *, days: int = 30, name: str = "扫描工作站") -> dict[str, str]:
    """A fresh token of the user, as the Authorization header that carries it."""
    return {"Authorization": f"Bearer {tokens.create_token(user, name=name, days=days).secret}"}


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["type"] == f"https://property-archive.example/problems/{slug}"
    assert body["status"] == status and body["title"] and isinstance(body["detail"], str)
    assert "Traceback" not in response.get_data(as_text=True)
    return body

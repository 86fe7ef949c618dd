"""Helpers for the unit pages' tests: users, English log-in, posting a page's forms with their CSRF token."""
from __future__ import annotations

from archive.core.enums import Level, Role
from tests.factories import csrf_token


def archivist(factory, clearance: Level = Level.B):
    return factory.user(roles=(Role.ARCHIVIST,), department="GMO", clearance=clearance)


def post_form(client, page: str, action: str, prefix: str, **fields):
    """Post one of the page's forms as a browser does: its prefixed fields and the page's CSRF token."""
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    data[f"{prefix}-csrf_token"] = csrf_token(client, page)
    return client.post(action, data=data)


def log_out(client) -> None:
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302

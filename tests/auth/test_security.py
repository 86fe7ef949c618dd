"""CSRF, error pages and secrets: what an attacker or a curious log reader would try."""
import re

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.auth.models import User
from archive.core.enums import Level, Role
from archive.extensions import db
from tests.factories import PASSWORD, csrf_token

CSRF_REFUSAL = "The form has expired or was not sent from this site."


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))


def _assert_no_stack_trace(html: str) -> None:
    assert "Traceback" not in html
    assert 'File "' not in html
    assert ".py" not in html


def test_login_without_csrf_token_is_refused_and_changes_nothing(client, factory):
    factory.user("wang.li")
    before = _actions()

    response = client.post("/login", data={"username": "wang.li", "password": PASSWORD})

    assert response.status_code == 400
    assert CSRF_REFUSAL in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    assert _actions() == before


def test_logout_without_csrf_token_is_refused_and_the_session_stays(client, factory):
    factory.user("wang.li")
    factory.login(client, "wang.li")

    response = client.post("/logout")

    assert response.status_code == 400
    assert client.get("/account").status_code == 200
    assert "auth.logout" not in _actions()


def test_user_creation_without_csrf_token_is_refused_and_creates_nobody(client, factory):
    admin = factory.user("root", roles=(Role.ADMIN,), department="GMO")
    factory.login(client, admin)
    before = _actions()

    response = client.post("/admin/users/new", data={
        "username": "intruder", "display_name": "Intruder", "department": "GMO",
        "roles": ["archivist"], "clearance": "A",
    })

    assert response.status_code == 400
    assert db.session.scalar(sa.select(User.id).where(User.username == "intruder")) is None
    assert _actions() == before


def test_error_pages_show_no_stack_trace(app, client, factory, app_logs):
    def explode():
        raise RuntimeError("internal detail C:/secret/path.py line 42")

    app.add_url_rule("/test-only/explode", "explode", explode)
    factory.user("wang.li")
    factory.login(client, "wang.li")

    not_found = client.get("/no-such-page")
    bad_request = client.post("/account", data={"current": "x"})  # no CSRF token
    server_error = client.get("/test-only/explode")

    assert (not_found.status_code, bad_request.status_code, server_error.status_code) == (404, 400, 500)
    assert "Not found." in not_found.get_data(as_text=True)
    assert CSRF_REFUSAL in bad_request.get_data(as_text=True)
    assert "Something went wrong on our side." in server_error.get_data(as_text=True)
    for response in (not_found, bad_request, server_error):
        html = response.get_data(as_text=True)
        _assert_no_stack_trace(html)
        assert "internal detail" not in html
    # The details go to the log, for the operator, not to the browser.
    assert "internal detail" in app_logs.text and "Traceback" in app_logs.text


def test_passwords_appear_in_no_log_and_no_audit_event(client, factory, app_logs):
    admin = factory.user("root", roles=(Role.ADMIN,), department="GMO")
    factory.login(client, admin)
    created = client.post("/admin/users/new", data={
        "username": "chen.jing", "display_name": "陈静", "department": "CSC", "roles": ["clerk"],
        "clearance": "C", "csrf_token": csrf_token(client, "/admin/users/new"),
    })
    (generated,) = re.findall(r'<code class="password">([^<]+)</code>', created.get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert factory.login(client, "chen.jing", "a-wrong-guess-2024").status_code == 401
    assert factory.login(client, "chen.jing", generated).status_code == 302

    logged = app_logs.text
    assert "INSERT INTO users" in logged  # the capture did see the statements and their parameters
    events = db.session.execute(sa.select(AuditEvent.__table__)).all()
    assert {"user.create", "auth.login"} <= {e.action for e in events}
    for secret in (generated, PASSWORD, "a-wrong-guess-2024"):
        assert secret not in logged
        assert not [e.seq for e in events if any(secret in str(value) for value in e)]


def test_admin_cannot_read_dossiers(client, factory):
    admin = factory.user("root", roles=(Role.ADMIN,), department="GMO", clearance=Level.A)
    factory.login(client, admin)

    assert client.get("/dossiers").status_code == 403
    assert client.get("/search").status_code == 403

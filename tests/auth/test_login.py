"""Logging in and out through the pages, with real argon2 hashes and the real audit trail."""
import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.auth import services as auth
from archive.auth.models import User
from archive.config import Defaults
from archive.extensions import db
from tests.auth.conftest import browser
from tests.factories import PASSWORD, csrf_token

GENERIC_REFUSAL = "Login or password is wrong, or the account is disabled."


def login_events(username: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "auth.login", AuditEvent.object_id == username)
            .order_by(AuditEvent.seq)
        )
    )


def test_right_password_opens_a_session_and_is_audited(client, factory):
    clerk = factory.user("wang.li")

    response = factory.login(client, clerk)

    assert response.status_code == 302
    account = client.get("/account")
    assert account.status_code == 200
    assert "wang.li" in account.get_data(as_text=True)
    (event,) = login_events("wang.li")
    assert (event.outcome, event.actor_id, event.ip) == ("success", clerk.id, "127.0.0.1")
    assert db.session.scalar(sa.select(User.last_login_at).where(User.id == clerk.id)) is not None


def test_wrong_password_and_unknown_login_get_the_same_generic_refusal(client, factory):
    factory.user("wang.li")

    wrong_password = factory.login(client, "wang.li", "not-the-password")
    unknown_login = factory.login(client, "nobody.here", PASSWORD)

    for response in (wrong_password, unknown_login):
        assert response.status_code == 401
        assert GENERIC_REFUSAL in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    (event,) = login_events("wang.li")
    assert event.outcome == "failure"
    assert login_events("nobody.here")[0].outcome == "failure"


def test_disabled_user_cannot_log_in(client, factory):
    factory.user("wang.li")
    auth.set_active(auth.SYSTEM, "wang.li", False)

    response = factory.login(client, "wang.li")

    assert response.status_code == 401
    assert GENERIC_REFUSAL in response.get_data(as_text=True)
    assert json.loads(login_events("wang.li")[-1].details)["reason"] == "disabled"


def test_session_of_a_user_who_is_disabled_stops_working(client, factory):
    factory.user("wang.li")
    factory.login(client, "wang.li")
    assert client.get("/account").status_code == 200

    auth.set_active(auth.SYSTEM, "wang.li", False)

    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_logout_ends_the_session_and_is_audited(client, factory):
    clerk = factory.user("wang.li")
    factory.login(client, clerk)

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})

    assert response.status_code == 302
    assert client.get("/account").status_code == 302
    logouts = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.logout")).all()
    assert [e.actor_id for e in logouts] == [clerk.id]


def test_too_many_failures_lock_the_login_even_with_the_right_password(app, client, factory):
    factory.user("wang.li")
    factory.user("zhao.min")
    limit, minutes = app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_LOCKOUT_MINUTES"]
    for _ in range(limit):
        assert factory.login(client, "wang.li", "guessing-again").status_code == 401

    response = factory.login(client, "wang.li", PASSWORD)

    assert response.status_code == 429
    assert f"Too many failed log-ins. Try again in {minutes} minutes." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    throttled = login_events("wang.li")[-1]
    assert throttled.outcome == "denied"
    assert json.loads(throttled.details)["reason"] == "throttled"
    # The lock is on that login: a colleague at the same address still logs in.
    assert factory.login(client, "zhao.min").status_code == 302


def test_password_is_stored_as_argon2id_only(factory):
    factory.user("wang.li")

    row = db.session.execute(sa.select(User.__table__).where(User.username == "wang.li")).mappings().one()

    assert row["password_hash"].startswith("$argon2id$")
    assert not any(PASSWORD in str(value) for value in row.values())


def test_by_default_passwords_get_rfc_9106_cost_and_weaker_hashes_are_renewed_at_log_in(app, client, factory):
    factory.user("wang.li")  # hashed at the suite's cheap cost
    app.config["PASSWORD_HASH_PROFILE"] = Defaults.PASSWORD_HASH_PROFILE

    assert factory.login(client, "wang.li").status_code == 302

    renewed = db.session.scalar(sa.select(User.password_hash).where(User.username == "wang.li"))
    assert renewed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_session_cookie_is_secure_httponly_and_samesite_lax(client, factory):
    factory.user("wang.li")

    response = factory.login(client, "wang.li")

    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "javascript:alert(1)"]
)
def test_login_never_redirects_to_another_site(client, factory, target):
    factory.user("wang.li")
    token = csrf_token(client, "/login")

    response = client.post(
        f"/login?next={quote(target)}", data={"username": "wang.li", "password": PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
    assert "javascript" not in response.headers["Location"]


def test_login_goes_on_to_the_page_asked_for(client, factory):
    factory.user("wang.li")
    asked = client.get("/account")
    assert asked.status_code == 302

    token = csrf_token(client, "/login")
    response = client.post(asked.headers["Location"], data={"username": "wang.li", "password": PASSWORD,
                                                           "csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def _page_language(client) -> str:
    html = client.get("/account").get_data(as_text=True)
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_language_switch_is_kept_on_the_user(app, client, factory):
    clerk = factory.user("wang.li")
    factory.login(client, clerk)
    assert _page_language(client) == "en"  # the browser asks for English

    response = client.post("/language", data={"locale": "zh_Hans", "next": "/account",
                                              "csrf_token": csrf_token(client, "/account")})

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert _page_language(client) == "zh-Hans"
    assert db.session.scalar(sa.select(User.locale).where(User.id == clerk.id)) == "zh_Hans"
    # A new session in an English-speaking browser still gets the user's own choice.
    other_browser = browser(app)
    factory.login(other_browser, clerk)
    assert _page_language(other_browser) == "zh-Hans"

    other_browser.post("/language", data={"locale": "en", "csrf_token": csrf_token(other_browser, "/account")})

    assert _page_language(other_browser) == "en"
    assert db.session.scalar(sa.select(User.locale).where(User.id == clerk.id)) == "en"


def test_language_chosen_on_the_login_page_survives_logging_in(client, factory):
    factory.user("wang.li")
    client.post("/language", data={"locale": "zh_Hans", "csrf_token": csrf_token(client, "/login")})

    factory.login(client, "wang.li")

    assert _page_language(client) == "zh-Hans"

"""Personal API tokens: created on the account page and shown once, stored as a hash, expiring, revocable by
their owner and by an administrator; every refusal is a 401 problem."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from archive.api.models import ApiToken
from archive.audit.models import AuditEvent
from archive.auth import services as auth
from archive.core.enums import Role
from archive.extensions import db
from tests.api.conftest import API, assert_problem, bearer
from tests.factories import csrf_token, login_in_english

TOKEN = re.compile(r"pa_[A-Za-z0-9_-]{43}")


def create_on_page(client, name="销售系统", days="30"):
    return client.post("/account/api-tokens", data={"name": name, "days": days,
                                                     "csrf_token": csrf_token(client, "/account/api-tokens")})


def test_a_token_is_shown_once_stored_as_its_hash_and_works(client, factory):
    clerk = factory.user("sales-li")
    login_in_english(client, factory, clerk)
    response = create_on_page(client)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    (secret,) = TOKEN.findall(response.get_data(as_text=True))

    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in listing and secret[:10] in listing and "销售系统" in listing
    row = db.session.scalars(sa.select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([getattr(row, c.key) for c in ApiToken.__table__.columns])
    assert row.expires_at - row.created_at == timedelta(days=30)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "api_token.create")).one()
    assert secret not in event.details

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    answer = client.get(f"{API}/projects", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    assert db.session.get(ApiToken, row.id).last_used_at is not None


def test_a_token_needs_a_name_and_at_most_a_year(client, factory):
    login_in_english(client, factory, factory.user("sales-zhao"))
    assert create_on_page(client, days="366").status_code == 400
    assert create_on_page(client, name=" ").status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_requests_without_a_valid_token_are_401_problems(client, factory):
    body = assert_problem(client.get(f"{API}/dossiers"), 401, "unauthorized")
    assert "Bearer" in body["detail"]
    response = client.get(f"{API}/dossiers", headers={"Authorization": "Bearer pa_not-a-token"})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused(client, factory, time_machine):
    headers = bearer(factory.user("sales-qian"), days=1)
    assert client.get(f"{API}/projects", headers=headers).status_code == 200
    time_machine.move_to(db.session.scalars(sa.select(ApiToken.expires_at)).one() + timedelta(seconds=1))
    assert_problem(client.get(f"{API}/projects", headers=headers), 401, "unauthorized")


def test_a_disabled_account_s_tokens_stop_working(client, factory):
    clerk = factory.user("sales-sun")
    headers = bearer(clerk)
    auth.set_active(auth.SYSTEM, clerk.username, False)
    assert_problem(client.get(f"{API}/projects", headers=headers), 401, "unauthorized")


def test_the_owner_revokes_a_token_and_nobody_else_but_an_administrator_can(client, factory):
    owner, other = factory.user("sales-zhou"), factory.user("sales-wu")
    headers = bearer(owner)
    token_id = db.session.scalars(sa.select(ApiToken.id)).one()

    login_in_english(client, factory, other)
    refused = client.post(f"/account/api-tokens/{token_id}/revoke",
                          data={"csrf_token": csrf_token(client, "/account/api-tokens")})
    assert refused.status_code == 404
    assert client.get("/admin/api-tokens").status_code == 403
    assert client.get(f"{API}/projects", headers=headers).status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login_in_english(client, factory, owner)
    assert client.post(f"/account/api-tokens/{token_id}/revoke",
                       data={"csrf_token": csrf_token(client, "/account/api-tokens")}).status_code == 302
    assert_problem(client.get(f"{API}/projects", headers=headers), 401, "unauthorized")
    assert "revoked" in client.get("/account/api-tokens").get_data(as_text=True)


def test_an_administrator_lists_and_revokes_anyone_s_token(client, factory):
    clerk = factory.user("sales-zheng")
    headers = bearer(clerk, name="泄露的令牌")
    admin = factory.user("root", roles=(Role.ADMIN,), department="GMO")
    login_in_english(client, factory, admin)
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "sales-zheng" in page and "泄露的令牌" in page
    token_id = db.session.scalars(sa.select(ApiToken.id)).one()
    response = client.post(f"/account/api-tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, "/admin/api-tokens")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/api-tokens")
    assert_problem(client.get(f"{API}/projects", headers=headers), 401, "unauthorized")
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "api_token.revoke")).one()
    assert event.actor_name == "root"

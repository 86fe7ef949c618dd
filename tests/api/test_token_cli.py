"""`archive token create` prints a working token once (only its hash is kept); `archive token revoke` ends it."""
from __future__ import annotations

import sqlalchemy as sa

from archive.api.models import ApiToken
from archive.api.tokens import token_hash
from archive.audit.models import AuditEvent
from archive.auth import services as auth
from archive.extensions import db
from tests.api.conftest import API, assert_problem


def test_a_token_made_on_the_command_line_works_until_revoked(runner, client, factory):
    station = factory.user("scan-station", department="SALES")
    result = runner.invoke(args=["token", "create", "--user", "scan-station", "--name", "售楼处扫描仪", "--days", "30"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("pa_") and len(secret) == 46

    token = db.session.scalars(sa.select(ApiToken)).one()
    assert (token.user_id, token.name, token.token_hash) == (station.id, "售楼处扫描仪", token_hash(secret))
    assert secret not in repr([getattr(token, c.key) for c in ApiToken.__table__.columns])
    assert (token.expires_at - token.created_at).days == 30
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/projects", headers=headers).status_code == 200

    result = runner.invoke(args=["token", "revoke", str(token.id)])
    assert result.exit_code == 0 and f"Revoked token {token.id}" in result.output and secret not in result.output
    assert_problem(client.get(f"{API}/projects", headers=headers), 401, "unauthorized")
    assert list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.startswith("api_token."))
                                   .order_by(AuditEvent.seq))) == ["api_token.create", "api_token.revoke"]


def test_the_command_refuses_unknown_and_disabled_accounts_days_out_of_range_and_unknown_tokens(runner, factory):
    factory.user("scan-old", department="SALES")
    auth.set_active(auth.SYSTEM, "scan-old", False)
    for args, message in (
        (["--user", "nobody", "--name", "x", "--days", "30"], "No account nobody"),
        (["--user", "scan-old", "--name", "x", "--days", "30"], "disabled"),
        (["--user", "scan-old", "--name", "x", "--days", "400"], "400 is not in the range"),
    ):
        result = runner.invoke(args=["token", "create", *args])
        assert result.exit_code != 0 and message in result.output, result.output
    result = runner.invoke(args=["token", "revoke", "999"])
    assert result.exit_code == 1 and "Not found" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0

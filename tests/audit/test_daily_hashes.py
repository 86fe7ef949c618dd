"""Each day's last chain hash, to copy out of the archive and compare later; tampering shows."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from archive.audit import services as audit
from archive.audit.models import AuditEvent
from archive.core.enums import Role
from archive.extensions import db
from tests.audit.test_chain import unguarded_audit_table  # noqa: F401 (fixture)
from tests.audit.test_viewer import _cells, _record_at
from tests.factories import csrf_token

# Shanghai days: 1 March 2024 (two events, the second at 23:59), 2 March from 00:01, nothing on 3 March, 4 March.
MOMENTS = [
    (datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc), "test.first"),
    (datetime(2024, 3, 1, 15, 59, tzinfo=timezone.utc), "test.before_midnight"),
    (datetime(2024, 3, 1, 16, 1, tzinfo=timezone.utc), "test.after_midnight"),
    (datetime(2024, 3, 2, 9, 0, tzinfo=timezone.utc), "test.second_day_last"),
    (datetime(2024, 3, 4, 1, 0, tzinfo=timezone.utc), "test.fourth_day"),
]


@pytest.fixture
def days(app, monkeypatch) -> dict[str, AuditEvent]:
    for when, action in MOMENTS:
        _record_at(monkeypatch, when, action)
    return {e.action: e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.startswith("test.")))}


def test_each_day_shows_the_hash_of_its_last_event_newest_first(client, factory, days):
    officer = factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO")
    factory.login(client, officer)

    rows = _cells(client.get("/audit/daily-hashes", query_string={"before": "2024-03-05"}))

    expected = [days["test.fourth_day"], days["test.second_day_last"], days["test.before_midnight"]]
    assert [(r[0], int(r[1]), r[3]) for r in rows] == [
        (day, event.seq, event.hash) for day, event in zip(["2024-03-04", "2024-03-02", "2024-03-01"], expected)]
    reading = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.daily_hashes")).one()
    assert (reading.actor_id, json.loads(reading.details)) == (officer.id, {"before": "2024-03-05"})


def test_days_page_backwards(days):
    first = audit.daily_hashes(before=date(2024, 3, 5), days=2)
    older = audit.daily_hashes(before=first[-1].day, days=2)

    assert [d.day for d in first] == [date(2024, 3, 4), date(2024, 3, 2)]
    assert [(d.day, d.seq) for d in older] == [(date(2024, 3, 1), days["test.before_midnight"].seq)]


def test_command_line_prints_the_same_hashes_and_is_audited(runner, days):
    result = runner.invoke(args=["audit", "daily-hashes", "--before", "2024-03-05", "--days", "2", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"day": "2024-03-04", "seq": days["test.fourth_day"].seq, "hash": days["test.fourth_day"].hash},
        {"day": "2024-03-02", "seq": days["test.second_day_last"].seq, "hash": days["test.second_day_last"].hash},
    ]
    reading = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.daily_hashes")).one()
    assert reading.actor_name == "cli" and reading.ip == "cli"


def test_a_rewritten_day_no_longer_matches_its_copied_hash_and_verification_names_it(
        client, factory, days, unguarded_audit_table):  # noqa: F811
    officer = factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO")
    factory.login(client, officer)
    copied = {d.day: d.hash for d in audit.daily_hashes(before=date(2024, 3, 5))}
    # Whoever rewrites an event and recomputes its hash still changes the day's hash that was copied out.
    event = days["test.before_midnight"]
    event.details = json.dumps({"step": 99})
    forged = audit.event_hash(event)
    db.session.rollback()
    db.session.execute(sa.text("UPDATE audit_events SET details = :d, hash = :h WHERE seq = :s"),
                       {"d": '{"step": 99}', "h": forged, "s": event.seq})
    db.session.commit()

    now = {d.day: d.hash for d in audit.daily_hashes(before=date(2024, 3, 5))}
    assert now[date(2024, 3, 1)] != copied[date(2024, 3, 1)]
    assert now[date(2024, 3, 2)] == copied[date(2024, 3, 2)]  # the later hashes were never recomputed…
    verified = client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit")}, follow_redirects=True)
    page = verified.get_data(as_text=True)
    # …so the link from the next event breaks, and the page says where and when it was last verified.
    assert f"The audit trail is broken at event {event.seq + 1}" in page
    assert f"broken at event {event.seq + 1}." in page.split("last-verification", 1)[1]

"""The audit trail is a hash chain the database will not let anyone edit, and `archive verify` re-walks it."""
import json

import pytest
import sqlalchemy as sa

from archive.audit import services as audit
from archive.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from archive.core.enums import Role
from archive.core.uow import unit_of_work
from archive.extensions import db
from tests.factories import csrf_token


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def unguarded_audit_table(app):
    """Take away the database's append-only guard, as an attacker with direct database access would.

    On PostgreSQL the database outlives the test, so the guard is put back afterwards.
    """
    if _is_postgres():
        db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_delete"))
    db.session.commit()
    yield
    if _is_postgres():
        db.session.rollback()
        db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        db.session.commit()


@pytest.fixture
def activity(factory):
    """A few ordinary events: accounts created, a dossier registered, a document filed."""
    factory.user("wang.li")
    factory.document(factory.dossier())
    with unit_of_work():
        for n in range(3):
            audit.record("test.step", object_type="test", object_id=str(n), step=n)
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))


def _all_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)))


def test_every_event_carries_the_hash_of_the_one_before(activity):
    events = _all_events()

    assert [e.seq for e in events] == list(range(1, activity + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for before, event in zip(events, events[1:]):
        assert event.prev_hash == before.hash
    assert all(audit.event_hash(e) == e.hash for e in events)
    head = db.session.get(AuditHead, 1)
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)


def test_verify_passes_on_an_intact_chain(runner, activity):
    result = runner.invoke(args=["verify"])

    assert result.exit_code == 0, result.output
    assert f"audit: {activity} events, chain intact" in result.output


def test_verify_names_the_first_altered_event(runner, activity, unguarded_audit_table):
    for seq in (activity - 1, activity - 3):
        db.session.execute(
            sa.text("UPDATE audit_events SET details = :d WHERE seq = :s"), {"d": '{"step": 99}', "s": seq}
        )
    db.session.commit()

    result = runner.invoke(args=["verify"])

    assert result.exit_code == 1
    assert f"BROKEN at event {activity - 3}: its content does not match its hash" in result.output


def test_verify_detects_a_recomputed_hash_by_the_next_link(runner, activity, unguarded_audit_table):
    """Whoever also recomputes the altered event's own hash breaks the link to the event after it."""
    event = db.session.get(AuditEvent, activity - 2)
    event.details = json.dumps({"step": 99})
    event.hash = audit.event_hash(event)
    db.session.execute(
        sa.text("UPDATE audit_events SET details = :d, hash = :h WHERE seq = :s"),
        {"d": event.details, "h": event.hash, "s": event.seq},
    )
    db.session.commit()

    result = runner.invoke(args=["verify"])

    assert result.exit_code == 1
    assert f"BROKEN at event {activity - 1}: its previous-hash does not match" in result.output


def test_verify_detects_that_the_last_event_was_deleted(runner, activity, unguarded_audit_table):
    db.session.execute(sa.text("DELETE FROM audit_events WHERE seq = :s"), {"s": activity})
    db.session.commit()

    result = runner.invoke(args=["verify"])

    assert result.exit_code == 1
    assert f"BROKEN at event {activity}: the chain head does not match the last event" in result.output


def test_verify_detects_that_an_event_in_the_middle_was_deleted(runner, activity, unguarded_audit_table):
    db.session.execute(sa.text("DELETE FROM audit_events WHERE seq = 2"))
    db.session.commit()

    result = runner.invoke(args=["verify"])

    assert result.exit_code == 1
    assert "BROKEN at event 2: event 2 is missing" in result.output


def test_events_appended_while_verifying_are_not_taken_for_a_break(activity, monkeypatch):
    """The check reads the chain head first; an event recorded after that is simply not checked yet."""
    checked_before, _ = audit.verify_chain()
    original = audit._iter_events

    def walk_while_someone_records(batch, up_to):
        for event in original(batch, up_to):
            yield event
        with unit_of_work():
            audit.record("test.concurrent", object_type="test", object_id="late")

    monkeypatch.setattr(audit, "_iter_events", walk_while_someone_records)
    checked, broken = audit.verify_chain()
    monkeypatch.undo()

    assert broken is None
    assert checked == checked_before == activity
    assert audit.verify_chain() == (activity + 1, None)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET details = '{}' WHERE seq = 1",
    "UPDATE audit_events SET outcome = 'success'",
    "DELETE FROM audit_events WHERE seq = 1",
    "DELETE FROM audit_events",
])
def test_database_refuses_to_change_or_delete_audit_events(activity, statement):
    before = [(e.seq, e.details, e.hash) for e in _all_events()]

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
        db.session.commit()
    db.session.rollback()

    assert [(e.seq, e.details, e.hash) for e in _all_events()] == before


def test_denied_access_to_a_document_is_recorded(client, factory):
    document = factory.document(factory.dossier(), department="SALES")
    outsider = factory.user("zhou.qiang", department="CSC")
    factory.login(client, outsider)

    page = client.get(f"/documents/{document.id}")
    download = client.get(f"/documents/{document.id}/download")

    assert (page.status_code, download.status_code) == (404, 404)
    denied = list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "access.denied").order_by(AuditEvent.seq)
    ))
    assert [(e.actor_id, e.object_type, e.object_id, e.outcome) for e in denied] == [
        (outsider.id, "document", str(document.id), "denied")
    ] * 2
    assert [json.loads(e.details)["attempted"] for e in denied] == ["read", "read_file"]


def test_verify_button_in_the_viewer_reports_a_broken_chain(client, factory, activity, unguarded_audit_table):
    officer = factory.user("he.min", roles=(Role.COMPLIANCE,), department="GMO")
    factory.login(client, officer)
    token = csrf_token(client, "/audit")
    intact = client.post("/audit/verify", data={"csrf_token": token}, follow_redirects=True)
    assert "The audit trail is intact" in intact.get_data(as_text=True)

    db.session.execute(sa.text("UPDATE audit_events SET actor_name = 'nobody' WHERE seq = 2"))
    db.session.commit()
    broken = client.post("/audit/verify", data={"csrf_token": token}, follow_redirects=True)

    assert "The audit trail is broken at event 2" in broken.get_data(as_text=True)
    checks = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.verify")))
    assert [(c.actor_id, c.outcome) for c in checks] == [(officer.id, "success"), (officer.id, "failure")]
    assert json.loads(checks[-1].details)["broken_at"] == 2

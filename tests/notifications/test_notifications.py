"""Notifications: rows that commit or roll back with the change that made them, shown in the reader's language,
marked read by their owner only, and e-mailed through a real SMTP server after the commit."""
from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from archive.audit import services as audit
from archive.core.enums import Role
from archive.core.uow import unit_of_work
from archive.extensions import db
from archive.notifications import services
from archive.notifications.models import Notification
from tests.factories import csrf_token, login_in_english

from .conftest import SMTP_PASSWORD, SMTP_USER, free_port

# A message the catalogue already translates, standing for any notification text.
MESSAGE = "Department %(code)s is created."
IN_CHINESE = "已新建部门 LEGAL2。"
IN_ENGLISH = "Department LEGAL2 is created."


def rows_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def send(users, link="/dossiers", **params) -> list[Notification]:
    """Notify inside a unit of work that also records an audit event, as a service's transition does."""
    with unit_of_work():
        audit.record("department.create", object_type="department", object_id="LEGAL2", code="LEGAL2")
        return services.notify(users, "department.created", MESSAGE, link, code="LEGAL2", **params)


def with_email(factory, name: str, email: str | None, locale: str | None = None, display_name: str = "张伟"):
    user = factory.user(name)
    user.email, user.locale, user.display_name = email, locale, display_name
    db.session.commit()
    return user


# --- Rows ------------------------------------------------------------------------------------------------


def test_notify_adds_one_row_per_person_in_the_same_transaction(factory):
    alice, bob = factory.user("alice"), factory.user("bob")
    send([alice, bob, alice], due="2026-11-30")
    (mine,) = rows_of(alice)
    assert (mine.kind, mine.message, mine.link) == ("department.created", MESSAGE, "/dossiers")
    assert mine.params == {"code": "LEGAL2", "due": "2026-11-30"}
    assert mine.read_at is None and mine.emailed_at is None  # no SMTP configured
    assert len(rows_of(bob)) == 1
    assert services.unread_count(alice) == 1


def test_a_rolled_back_change_leaves_no_notification(factory):
    alice = factory.user("alice")
    with pytest.raises(RuntimeError):
        with unit_of_work():
            services.notify([alice], "department.created", MESSAGE, code="LEGAL2")
            raise RuntimeError("the change failed")
    assert rows_of(alice) == []


def test_values_that_are_not_json_are_stored_as_text(factory):
    from datetime import date

    alice = factory.user("alice")
    with unit_of_work():
        services.notify([alice], "loan.overdue", "Due %(due)s", due=date(2026, 12, 1), pages=3)
    assert rows_of(alice)[0].params == {"due": "2026-12-01", "pages": 3}


def test_a_link_must_stay_inside_the_archive(factory):
    alice = factory.user("alice")
    for link in ("https://evil.example/", "//evil.example/x", "loans/1"):
        with pytest.raises(ValueError):
            services.notify([alice], "x", MESSAGE, link, code="X")
    db.session.rollback()


def test_recent_is_newest_first_and_limited(factory, time_machine):
    from datetime import datetime, timedelta, timezone

    alice = factory.user("alice")
    start = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    for hour in range(5):
        time_machine.move_to(start + timedelta(hours=hour), tick=False)
        with unit_of_work():
            services.notify([alice], "x", MESSAGE, code=f"D{hour}")
    assert [n.params["code"] for n in services.recent(alice, limit=3)] == ["D4", "D3", "D2"]


# --- Pages -----------------------------------------------------------------------------------------------


def test_the_list_speaks_the_readers_language(client, factory):
    alice = factory.user("alice")
    send([alice])
    assert factory.login(client, alice).status_code == 302
    page = client.get("/notifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert IN_CHINESE in html and MESSAGE not in html

    choose_english = client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/account")})
    assert choose_english.status_code == 302
    html = client.get("/notifications").get_data(as_text=True)
    assert IN_ENGLISH in html
    assert "1 unread" in html


def test_the_list_is_newest_first_and_only_mine(client, factory, time_machine):
    from datetime import datetime, timedelta, timezone

    alice, bob = factory.user("alice"), factory.user("bob")
    start = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    for hour, (user, code) in enumerate([(alice, "OLDER"), (bob, "BOBS"), (alice, "NEWER")]):
        time_machine.move_to(start + timedelta(hours=hour), tick=True)
        with unit_of_work():
            services.notify([user], "x", MESSAGE, code=code)
    login_in_english(client, factory, alice)
    html = client.get("/notifications").get_data(as_text=True)
    assert "BOBS" not in html
    assert html.index("Department NEWER is created.") < html.index("Department OLDER is created.")
    assert "2026-11-20 18:00" in html  # shown in the archive's time zone (UTC+8)


def test_mark_read_one_then_all(client, factory):
    alice = factory.user("alice")
    first, second, third = (send([alice])[0] for _ in range(3))
    login_in_english(client, factory, alice)
    token = csrf_token(client, "/notifications")
    assert "3 unread" in client.get("/notifications").get_data(as_text=True)

    response = client.post(f"/notifications/{first.id}/read", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications")
    assert "2 unread" in client.get("/notifications").get_data(as_text=True)
    assert services.unread_count(alice) == 2

    # Opening a notification marks it read and goes where it points.
    response = client.post(f"/notifications/{second.id}/read", data={"csrf_token": token, "open": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/dossiers"
    assert services.unread_count(alice) == 1

    response = client.post("/notifications/read-all", data={"csrf_token": token})
    assert response.status_code == 302
    html = client.get("/notifications").get_data(as_text=True)
    assert "0 unread" in html and "Mark all as read" not in html
    assert all(n.read_at is not None for n in rows_of(alice))


def test_marking_read_needs_the_forms_token(client, factory):
    alice = factory.user("alice")
    (mine,) = send([alice])
    login_in_english(client, factory, alice)
    assert client.post(f"/notifications/{mine.id}/read").status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    assert services.unread_count(alice) == 1


def test_nobody_else_can_mark_my_notifications(client, factory):
    alice, mallory = factory.user("alice"), factory.user("mallory", roles=(Role.ARCHIVIST,), department="GMO")
    (mine,) = send([alice])
    login_in_english(client, factory, mallory)
    token = csrf_token(client, "/notifications")
    assert client.post(f"/notifications/{mine.id}/read", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/notifications/{mine.id + 1000}/read", data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 302
    assert rows_of(alice)[0].read_at is None
    assert "LEGAL2" not in client.get("/notifications").get_data(as_text=True)


def test_the_list_needs_a_login(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- E-mail ----------------------------------------------------------------------------------------------


def use_mail_server(app, port: int, **settings) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="档案室 <archive@example.cn>", **settings)


def test_mail_goes_out_after_the_commit_in_each_readers_language(app, factory, mailbox):
    use_mail_server(app, mailbox.port)
    zhang = with_email(factory, "zhang", "zhang@example.cn")  # no language chosen: the archive's default
    smith = with_email(factory, "smith", "smith@example.com", locale="en")
    nomail = with_email(factory, "nomail", None)
    send([zhang, smith, nomail], link="/loans/12")

    by_recipient = {mail["To"].addresses[0].addr_spec: mail for mail in mailbox.received}
    assert set(by_recipient) == {"zhang@example.cn", "smith@example.com"}
    chinese, english = by_recipient["zhang@example.cn"], by_recipient["smith@example.com"]
    assert chinese["Subject"] == f"[房产档案管理系统] {IN_CHINESE}"
    assert IN_CHINESE in chinese.get_content()
    assert "https://localhost/loans/12" in chinese.get_content()
    assert english["Subject"] == f"[Property Archive] {IN_ENGLISH}"
    assert IN_ENGLISH in english.get_content()
    assert chinese["From"].addresses[0].addr_spec == "archive@example.cn"
    assert chinese["To"].addresses[0].display_name == "张伟"

    assert rows_of(zhang)[0].emailed_at is not None and rows_of(smith)[0].emailed_at is not None
    assert rows_of(nomail)[0].emailed_at is None


def test_no_mail_for_a_change_that_rolled_back(app, factory, mailbox):
    use_mail_server(app, mailbox.port)
    zhang = with_email(factory, "zhang", "zhang@example.cn")
    with pytest.raises(RuntimeError):
        with unit_of_work():
            services.notify([zhang], "department.created", MESSAGE, code="LEGAL2")
            raise RuntimeError("the change failed")
    send([factory.user("someone-else")])  # a later commit must not send what was rolled back
    assert mailbox.received == []


def test_no_mail_to_a_disabled_account(app, factory, mailbox):
    use_mail_server(app, mailbox.port)
    zhang = with_email(factory, "zhang", "zhang@example.cn")
    zhang.active = False
    db.session.commit()
    send([zhang])
    assert mailbox.received == [] and len(rows_of(zhang)) == 1


def test_an_unreachable_mail_server_leaves_the_change_and_the_notification(app, factory, caplog):
    use_mail_server(app, free_port())  # nothing listens there
    zhang = with_email(factory, "zhang", "zhang@example.cn")
    with caplog.at_level(logging.WARNING, logger="archive.notifications.services"):
        send([zhang])
    (row,) = rows_of(zhang)
    assert row.emailed_at is None and row.read_at is None
    assert "notification e-mail through 127.0.0.1" in caplog.text
    # The audit event of the same unit of work committed too.
    assert audit.check_chain(factory.user("auditor", roles=(Role.COMPLIANCE,), department="GMO"))[1] is None


def test_starttls_and_login(app, factory, tls_mailbox):
    app.config.update(SMTP_HOST="localhost", SMTP_PORT=tls_mailbox.port, SMTP_STARTTLS=True, SMTP_USER=SMTP_USER,
                      SMTP_PASSWORD=SMTP_PASSWORD)
    zhang = with_email(factory, "zhang", "zhang@example.cn")
    send([zhang])
    assert tls_mailbox.logins == [SMTP_USER]
    assert [mail["Subject"] for mail in tls_mailbox.received] == [f"[房产档案管理系统] {IN_CHINESE}"]
    assert rows_of(zhang)[0].emailed_at is not None


def test_a_refused_login_is_logged_without_the_password(app, factory, tls_mailbox, caplog):
    app.config.update(SMTP_HOST="localhost", SMTP_PORT=tls_mailbox.port, SMTP_STARTTLS=True, SMTP_USER=SMTP_USER,
                      SMTP_PASSWORD="wrong-Pa55word-123")
    zhang = with_email(factory, "zhang", "zhang@example.cn")
    with caplog.at_level(logging.DEBUG):
        send([zhang])
    assert tls_mailbox.received == []
    assert "SMTPAuthenticationError" in caplog.text
    assert "wrong-Pa55word-123" not in caplog.text
    assert not re.search(r"Pa55", repr([r.__dict__ for r in caplog.records]))
    assert rows_of(zhang)[0].emailed_at is None and len(rows_of(zhang)) == 1

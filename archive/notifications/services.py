"""Notifications: a message for one person inside the archive, e-mailed too when SMTP is configured.

`notify` adds the rows to the current transaction. Their e-mails leave only once that transaction commits
(a rolled-back change tells nobody anything), and a mail server that is down or refuses costs the e-mail,
never the change: the notification stays in the archive either way.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..auth.models import User
from ..core.errors import NotFound
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..extensions import db
from .models import Notification

log = logging.getLogger(__name__)

_OUTBOX = "archive.notifications.outbox"  # key in Session.info: e-mails waiting for the commit


def notify(users: Iterable[User], kind: str, message: str, link: str = "", **params: Any) -> list[Notification]:
    """Add a notification for each user to the current transaction; e-mail them after it commits.

    `message` is the untranslated message id with %(name)s placeholders filled from `params` in each
    reader's language when shown (mark it for extraction where it is written). `link` is a path inside
    the archive, e.g. "/loans/12". Parameter values that are not plain JSON values are stored as text.
    """
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValueError(f"a notification links inside the archive, not to {link!r}")
    stored = {name: value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
              for name, value in params.items()}
    now = utcnow()
    recipients = list({user.id: user for user in users}.values())
    rows = [Notification(user_id=user.id, kind=kind, message=message, params=stored, link=link, created_at=now)
            for user in recipients]
    db.session.add_all(rows)
    settings = _smtp_settings()
    if settings is None:
        return rows
    db.session.flush()  # the ids, to record which e-mails went out
    outbox = db.session.info.setdefault(_OUTBOX, _Outbox(settings, db.engine))
    for user, row in zip(recipients, rows):
        if user.active and user.email:
            mail = _compose(user, row, settings.sender)
            if mail is not None:
                outbox.mails.append(mail)
    return rows


def text(notification: Notification) -> str:
    """The message in the current reader's language."""
    try:
        return _(notification.message, **notification.params)
    except (KeyError, ValueError, TypeError):  # a stored message whose placeholders no longer match
        return notification.message


def unread_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def _newest_first(user: User) -> sa.Select:
    return (sa.select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def recent(user: User, limit: int = 10) -> list[Notification]:
    return list(db.session.scalars(_newest_first(user).limit(limit)))


def listing(user: User, page: int = 1):
    """A page of the user's notifications, newest first."""
    return db.paginate(_newest_first(user), page=page, per_page=current_app.config["PAGE_SIZE"], error_out=False)


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read; anyone else's answers as missing."""
    with unit_of_work():
        notification = db.session.scalars(
            sa.select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
        ).first()
        if notification is None:
            raise NotFound("Not found.")
        if notification.read_at is None:
            notification.read_at = utcnow()
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many were."""
    with unit_of_work():
        marked = db.session.execute(
            sa.update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        ).rowcount
    return marked


# --- E-mail ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    sender: str
    starttls: bool
    timeout: float


@dataclass(frozen=True)
class _Mail:
    notification_id: int
    message: EmailMessage


@dataclass
class _Outbox:
    settings: _SmtpSettings
    engine: Engine
    mails: list[_Mail] = field(default_factory=list)


def _smtp_settings() -> _SmtpSettings | None:
    config = current_app.config
    if not config.get("SMTP_HOST"):
        return None
    return _SmtpSettings(
        host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]), user=config.get("SMTP_USER") or None,
        password=config.get("SMTP_PASSWORD") or None, sender=config["SMTP_FROM"],
        starttls=bool(config["SMTP_STARTTLS"]), timeout=float(config["SMTP_TIMEOUT"]),
    )


def _compose(user: User, notification: Notification, sender: str) -> _Mail | None:
    """The e-mail in the recipient's own language, composed now while the request's context is at hand."""
    try:
        recipient = Address(display_name=user.display_name, addr_spec=user.email)
    except (ValueError, IndexError, HeaderParseError):  # the address does not parse
        log.warning("notification %s: user %s has an unusable e-mail address", notification.id, user.username)
        return None
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = text(notification)
        subject = f"[{_('Property Archive')}] {body}"
        signature = _("Property Archive")
    lines = [body]
    if notification.link:
        lines += ["", _absolute(notification.link)]
    lines += ["", "-- ", signature]
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = recipient
    mail.set_content("\n".join(lines))
    return _Mail(notification.id, mail)


def _absolute(link: str) -> str:
    """The link as a full URL when the archive knows its address (a request, or SERVER_NAME), else the path."""
    try:
        return url_for("index", _external=True).rstrip("/") + link
    except RuntimeError:  # no request and no SERVER_NAME: the path is the best we have
        return link


@sa.event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    outbox = session.info.pop(_OUTBOX, None)
    if outbox is None:
        return
    try:
        _deliver(outbox)
    except Exception:  # the change is committed; whatever went wrong with the e-mail must not undo its success
        log.exception("notification e-mail failed")


@sa.event.listens_for(Session, "after_transaction_end")
def _discard_unsent(session: Session, transaction) -> None:
    # Runs after after_commit: what is still here belongs to a transaction rolled back or closed uncommitted.
    if transaction.parent is None:
        session.info.pop(_OUTBOX, None)


def _deliver(outbox: _Outbox) -> None:
    settings, sent = outbox.settings, []
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            for mail in outbox.mails:
                try:
                    smtp.send_message(mail.message)
                    sent.append(mail.notification_id)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                    log.warning("notification %s: the mail server refused the e-mail: %s", mail.notification_id,
                                exc)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("notification e-mail through %s:%s (user %s) failed: %s: %s", settings.host, settings.port,
                    settings.user or "-", type(exc).__name__, exc)
    if sent:
        with outbox.engine.begin() as connection:
            connection.execute(
                sa.update(Notification.__table__).where(Notification.__table__.c.id.in_(sent))
                .values(emailed_at=utcnow())
            )

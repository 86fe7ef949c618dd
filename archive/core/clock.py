"""The archive's own time zone (BABEL_DEFAULT_TIMEZONE, Asia/Shanghai by default) and its calendar days.

Times are stored in UTC; a day — a loan's last day, a handover's due date — is a day in this zone.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from .types import utcnow


def archive_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(archive_zone()).date()

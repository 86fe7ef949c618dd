"""Scheduled backups and restore drills on the worker (`archive worker`).

Huey's periodic tasks are declared at import, before any configuration is read, so one task runs every minute
and compares the time with ARCHIVE_BACKUP_CRONTAB and ARCHIVE_BACKUP_DRILL_CRONTAB (cron fields, in the
archive's time zone). Nothing runs while ARCHIVE_BACKUP_DIR is unset; the dashboard panel warns about that.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from huey import crontab

from ..core.clock import archive_zone
from ..core.types import utcnow
from ..search.queue import huey
from . import services

log = logging.getLogger(__name__)


def due(schedule: str, now: datetime) -> bool:
    """Whether the cron schedule "minute hour day month weekday" names this minute."""
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"a backup schedule has five cron fields, not {schedule!r}")
    return crontab(*fields)(now.replace(second=0, microsecond=0, tzinfo=None))


@huey.periodic_task(crontab())
def scheduled_backup() -> None:
    if not current_app.config.get("BACKUP_DIR"):
        return
    now = utcnow().astimezone(archive_zone())
    try:
        if due(current_app.config["BACKUP_CRONTAB"], now):
            result = services.backup(current_app.config["BACKUP_DIR"])
            log.info("backup %s: %s bytes copied", result.snapshot, result.copied_bytes)
        if due(current_app.config["BACKUP_DRILL_CRONTAB"], now):
            report = services.restore_drill()
            log.info("restore drill: %s", "passed" if report.ok else "FAILED")
    except services.BackupError as exc:  # recorded as a failed run: the dashboard shows it
        log.error("scheduled backup or drill failed: %s", exc)

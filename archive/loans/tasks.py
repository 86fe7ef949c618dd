"""The loan sweep on the worker: every 15 minutes, periods that ran out expire and overdue loans are escalated."""
from __future__ import annotations

import logging

from huey import crontab

from ..search.queue import huey
from . import services

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*/15"))
def sweep_loans() -> None:
    result = services.sweep()
    if result.expired or result.overdue or result.notified:
        log.info("loan sweep: %s expired, %s overdue, %s escalated", result.expired, result.overdue, result.notified)

"""Declassification on the worker: every hour, documents whose dated period has ended are lowered to C."""
from __future__ import annotations

import logging

from huey import crontab

from ..search.queue import huey
from . import services

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="5"))
def declassify_expired() -> None:
    declassified = services.declassify_expired()
    if declassified:
        log.info("declassified %s document(s) whose period ended: %s", len(declassified), ", ".join(declassified))

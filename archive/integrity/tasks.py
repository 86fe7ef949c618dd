"""The periodic fixity run on the worker: every hour, the next batch of stored blobs is re-hashed."""
from __future__ import annotations

import logging

from huey import crontab

from ..search.queue import huey
from .fixity import run_fixity

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="7"))  # hourly: fixity.RUN_INTERVAL
def periodic_fixity() -> None:
    run = run_fixity()
    if run.failed:
        log.warning("fixity run %s: %s of %s stored blobs failed", run.id, run.failed, run.checked)

"""The import page's imports run on the worker, so a long import survives the page being closed."""
from __future__ import annotations

from ..search.queue import huey
from . import services


@huey.task()
def run_import_job(job_id: int) -> None:
    services.run_job(job_id)

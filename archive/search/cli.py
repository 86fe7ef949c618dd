"""`archive worker` (the background worker) and `archive text status|requeue`."""
from __future__ import annotations

import logging
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db


SHUTDOWN_TIMEOUT = 15  # seconds Ctrl+C waits for the tasks in hand


@click.command()
@click.option("--workers", type=click.IntRange(1, 256), default=None, envvar="ARCHIVE_WORKERS",
              help="Tasks run at the same time (default: ARCHIVE_WORKERS, else one per CPU core; "
                   "OCR uses one core per task).")
@click.option("--verbose", is_flag=True, help="Also log every task started and finished.")
@with_appcontext
def worker(workers: int | None, verbose: bool) -> None:
    """Run the background worker: text extraction (PDF text and OCR) and indexing, from the task queue.

    Ctrl+C lets the tasks in hand finish (for up to 15 seconds); SIGTERM stops at once. Work left unfinished is
    queued again once its lease expires (TEXT_LEASE_SECONDS), by the next worker to start or by any running one.
    """
    from ..setup import startup_checks
    from .queue import app_queue, huey
    from .tasks import requeue_stale

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("huey").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the schema check at start-up
    try:
        startup_checks(app)
    except RuntimeError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    queue = app_queue(app)
    if queue.immediate:
        click.secho("QUEUE_IMMEDIATE is set: tasks run where they are queued, so there is nothing for a worker.",
                    fg="red", err=True)
        sys.exit(1)
    workers = workers or os.cpu_count() or 1
    huey.bind(app)
    requeue_stale(pending_grace=0)
    db.session.remove()  # the consumer's threads open their own sessions
    click.echo(f"Worker: {workers} task(s) at a time from the {queue.description} queue (Ctrl+C stops it)")
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                         shutdown_timeout=SHUTDOWN_TIMEOUT).run()


@click.group()
def text() -> None:
    """The text read from each file (PDF text layer or OCR): status and re-queueing."""


@text.command("status")
@with_appcontext
def text_status() -> None:
    """Count the file versions by text status and list the latest failures with their reasons."""
    from .models import TextStatus
    from .queue import app_queue, huey
    from .textstore import failures, status_counts

    counts = status_counts()
    click.echo("  ".join(f"{status.value}: {counts.get(status, 0)}" for status in TextStatus))
    click.echo(f"queue: {huey.pending_count()} task(s) waiting ({app_queue(current_app).description})")
    for row, archive_number in failures():
        click.echo(f"failed  {archive_number}  version id {row.file_version_id}  after {row.attempts} attempt(s): "
                   f"{row.error}")


@text.command("requeue")
@click.argument("document_number", required=False)
@click.option("--stale", is_flag=True, help="Work a stopped worker left, and pending work whose message was lost.")
@click.option("--failed", is_flag=True, help="Every file version whose text failed (e.g. once Tesseract is installed).")
@with_appcontext
def text_requeue(document_number: str | None, stale: bool, failed: bool) -> None:
    """Queue text extraction again: for one document (by archive number), --stale or --failed."""
    from ..cli import _service_call
    from . import textstore
    from .tasks import requeue_stale

    if sum((bool(document_number), stale, failed)) != 1:
        raise click.UsageError("Give exactly one of DOCUMENT_NUMBER, --stale or --failed.")
    if document_number:
        _service_call(textstore.requeue_by_number, document_number)
        click.echo(f"Queued the text of {document_number.strip()} again.")
    elif failed:
        click.echo(f"Queued {textstore.requeue_failed()} failed file version(s) again.")
    else:
        report = requeue_stale(pending_grace=0)  # asked for now: e.g. the queue was just repaired or replaced
        click.echo(f"Queued again: {report.expired - report.failed} left by a stopped worker, {report.lost} whose "
                   f"queue message was lost; {report.failed} failed after too many interruptions.")

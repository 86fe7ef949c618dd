"""`archive check --all [--report DIR]` and `archive fixity run`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from . import tasks  # noqa: F401  (registers the periodic fixity run with the worker)
from .fixity import run_fixity
from .report import check_all, write_report


@click.command("check")
@click.option("--all", "everything", is_flag=True, required=True,
              help="Run every check: the four-property check of each document, the audit chain, every blob, the index.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where report.json and report.pdf are written.")
@with_appcontext
def check(everything: bool, report_dir: Path) -> None:
    """Run every integrity check and write report.json and report.pdf; exit 1 on any failure."""
    report = check_all()
    as_json, as_pdf = write_report(report, report_dir)
    for failure in report.document_failures[:20]:
        click.secho(f"document {failure['archive_number']} v{failure['version']}: failed "
                    f"{', '.join(failure['failed'])}", fg="red")
    for problem in report.blob_problems[:20]:
        click.secho(f"blob: {problem}", fg="red")
    click.echo(f"documents: {report.documents_checked} checked, {len(report.document_failures)} failed")
    click.echo(f"audit: {report.audit_events} events, "
               + ("chain intact" if report.audit_break is None else f"BROKEN at {report.audit_break}"))
    click.echo(f"blobs: {report.blobs_checked} checked, {len(report.blob_problems)} failed, "
               f"{report.orphaned_blobs} orphaned (unreferenced)")
    click.echo(f"index: {report.index_missing} missing, {report.index_stale} stale, "
               f"{report.index_orphaned} deleted but still indexed")
    click.echo(f"report: {as_json} {as_pdf}")
    sys.exit(0 if report.ok else 1)


@click.group()
def fixity() -> None:
    """The periodic fixity run (the worker runs it every hour)."""


@fixity.command("run")
@click.option("--batch", type=int, default=None, help="Blobs of each kind to check (default: from the cycle).")
@with_appcontext
def fixity_run(batch: int | None) -> None:
    """Re-hash the next batch of stored blobs now, as the worker does every hour."""
    run = run_fixity(batch)
    click.echo(f"fixity run {run.id}: {run.checked} blobs checked ({run.bytes_checked} bytes), {run.failed} failed")
    sys.exit(1 if run.failed else 0)

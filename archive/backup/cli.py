"""`archive backup [DEST] [--drill]`, `archive restore SRC`, `archive restore-drill [SRC]`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import services, tasks  # noqa: F401  (tasks: registers the scheduled backup with the worker)


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _show(report: services.RestoreReport) -> None:
    for line in report.lines():
        click.secho(line, fg="red" if line.startswith("PROBLEM") else None)


def _restore_and_show(restore, source: Path | None, *, refused: str, mismatch: str, passed: str) -> None:
    try:
        report = restore(source)
    except services.BackupError as exc:
        _fail(f"{refused}: {exc}")
    _show(report)
    if not report.ok:
        _fail(mismatch)
    click.echo(passed)


@click.command("backup")
@click.argument("destination", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--drill", is_flag=True, help="Then restore the new backup into a temporary instance and verify it.")
@with_appcontext
def backup_command(destination: Path | None, drill: bool) -> None:
    """Take an online backup into DESTINATION (default ARCHIVE_BACKUP_DIR): database snapshot, new blobs,
    manifest with checksums. No master key is ever written to it."""
    destination = destination or current_app.config.get("BACKUP_DIR")
    if not destination:
        _fail("No destination: name one, or set ARCHIVE_BACKUP_DIR.")
    try:
        result = services.backup(destination)
    except services.BackupError as exc:
        _fail(f"Backup failed: {exc}")
    counts = result.manifest["counts"]
    click.echo(f"Backup {result.snapshot}: {counts['documents']} documents, {counts['blobs']} blobs "
               f"({result.copied_blobs} copied, {result.present_blobs} already there), "
               f"{result.size_bytes / 1e6:.1f} MB in all, {result.copied_bytes / 1e6:.1f} MB written.")
    click.echo(f"It needs master key(s) {', '.join(result.manifest['key_ids'])}: keep them apart "
               "(`archive keys export`).")
    if drill:
        _drill(result.snapshot)


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(source: Path) -> None:
    """Restore SOURCE (a snapshot directory, or a destination: its newest snapshot) into this empty instance,
    then rebuild the search index and verify the result. Refused with the wrong master key or a non-empty
    instance, before anything is written."""
    _restore_and_show(services.restore, source, refused="Restore refused",
                      mismatch="The restored archive does not match its backup (see above).",
                      passed="Restore complete; the archive is verified.")


@click.command("restore-drill")
@click.argument("source", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_drill_command(source: Path | None) -> None:
    """Restore the latest backup (of SOURCE or ARCHIVE_BACKUP_DIR) into a temporary instance, verify it and
    record the result for the dashboard; the temporary instance is removed."""
    _drill(source)


def _drill(source: Path | None) -> None:
    _restore_and_show(services.restore_drill, source, refused="Restore drill failed",
                      mismatch="Restore drill FAILED: the backup does not restore to what it recorded.",
                      passed="Restore drill passed.")

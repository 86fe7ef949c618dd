"""`archive import MANIFEST --user LOGIN [--folder DIR] [--check]`: bulk import from the command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from tqdm import tqdm

from ..core.errors import AccessDenied
from ..core.web import error_text
from ..search.services import user_named
from . import services, tasks  # noqa: F401  (tasks: registers the import task with the worker)
from .manifest import Problem


def _problem_line(problem: Problem) -> str:
    where = f"row {problem.row}: " if problem.row else "manifest: "
    return where + error_text(problem.error)


@click.command("import")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True, help="The account that files the documents.")
@click.option("--folder", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The folder the manifest's paths are relative to (default: the manifest's folder).")
@click.option("--check", "check_only", is_flag=True, help="Only check the manifest and its files; file nothing.")
@with_appcontext
def import_command(manifest: Path, username: str, folder: Path | None, check_only: bool) -> None:
    """File the scans a manifest (CSV or XLSX) lists: every row is checked first and every problem printed
    with its row number; nothing is filed while any remains. Run it again after an interruption: files
    already filed in their dossier (same SHA-256) are skipped."""
    identity = user_named(username)
    folder = folder or manifest.parent
    with force_locale("en"):
        try:
            checked = services.check_import(identity, manifest.name, manifest.read_bytes(), folder)
        except AccessDenied:
            click.secho(f"{username} may not import documents.", fg="red", err=True)
            sys.exit(1)
        for problem in checked.problems:
            click.echo(_problem_line(problem), err=True)
        if not checked.ok:
            click.secho(f"{len(checked.problems)} problem(s) in {manifest.name}; nothing was filed.", fg="red",
                        err=True)
            sys.exit(1)
        click.echo(f"{len(checked.items)} rows checked, no problems.")
        if check_only:
            return
        with tqdm(total=len(checked.items), unit="doc", desc="importing", file=sys.stderr) as bar:
            summary = services.run_import(identity, manifest.name, checked, on_row=lambda _outcome: bar.update())
        for outcome in summary.failed:
            click.echo(f"row {outcome.row}: {error_text(outcome.error)}", err=True)
    click.echo(f"Filed {summary.filed}, already there {summary.skipped}, failed {len(summary.failed)}.")
    if summary.failed:
        sys.exit(1)

"""`archive verify`, `archive keys rotate|retire|list`, `archive documents get`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from . import services


@click.command()
@click.option("--audit/--no-audit", default=True, help="Re-walk the audit chain.")
@click.option("--fixity/--no-fixity", default=True, help="Re-hash every stored blob.")
@click.option("--decrypt", is_flag=True, help="Also decrypt each blob and compare the plaintext checksum.")
@click.option("--index/--no-index", default=True, help="Report documents missing from or stale in the search index.")
@with_appcontext
def verify(audit: bool, fixity: bool, decrypt: bool, index: bool) -> None:
    """Check the audit chain and the stored files; exit 1 naming the first broken event or blob."""
    failed = False
    if audit:
        checked, brk = services.verify_audit_chain()
        if brk:
            click.secho(f"audit: BROKEN at event {brk.seq}: {brk.reason} ({checked} events before it are intact)",
                        fg="red")
            failed = True
        else:
            click.echo(f"audit: {checked} events, chain intact")
    if fixity:
        report = services.verify_blobs(decrypt=decrypt, progress=lambda n: None)
        for problem in report.problems[:20]:
            click.secho(f"blob: {problem}", fg="red")
        click.echo(f"blobs: {report.checked} checked, {len(report.problems)} failed, "
                   f"{len(report.orphans)} orphaned (unreferenced) blobs")
        failed = failed or bool(report.problems)
    if index:
        from ..search.index_cli import report_index

        report_index()  # derived data: reported, repaired by `archive reindex`, not a failure of the archive
    sys.exit(1 if failed else 0)


@click.group()
def keys() -> None:
    """Master keys: list, rotate, retire."""


@keys.command("list")
@with_appcontext
def keys_list() -> None:
    """Show the master keys and how many data keys each still seals."""
    for key_id, current, count in services.key_usage():
        click.echo(f"{key_id} {'current' if current else 'old    '} seals {count} data keys / values")


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Add a new master key and re-seal every data key under it (content is not touched)."""
    try:
        new_id, resealed = services.rotate_master_key()
    except services.RotationImpossible as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    click.echo(f"New master key {new_id}; re-sealed {resealed} data keys and values. "
               "Old keys stay readable until `archive keys retire`.")


@keys.command("retire")
@click.argument("key_id")
@with_appcontext
def keys_retire(key_id: str) -> None:
    """Remove an old master key once nothing is sealed with it."""
    try:
        services.retire_master_key(key_id)
    except services.RotationImpossible as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    click.echo(f"Retired {key_id}.")


@click.group()
def documents() -> None:
    """Read documents from the shell, as a named user and under the same policy as the web pages."""


@documents.command("get")
@click.argument("archive_number")
@click.option("--as", "username", required=True, help="The user whose permissions apply.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--version", "version_no", type=int, default=None)
@with_appcontext
def documents_get(archive_number: str, username: str, output: Path, version_no: int | None) -> None:
    """Write a document's file (decrypted) to OUTPUT; audited like a download."""
    try:
        written = services.export_document(username, archive_number, output, version_no)
    except services.NotVisible:
        click.secho(f"No document {archive_number} visible to {username}.", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Wrote {written} bytes to {output}")

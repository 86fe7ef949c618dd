"""`archive verify`, `archive keys rotate|retire|list|export|import`, `archive documents get`."""
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
@click.option("--repair", is_flag=True,
              help="Delete unreferenced blobs older than ARCHIVE_ORPHAN_GRACE_SECONDS and blobs of disposed "
                   "(crypto-shredded) files; implies --fixity.")
@with_appcontext
def verify(audit: bool, fixity: bool, decrypt: bool, index: bool, repair: bool) -> None:
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
    if fixity or repair:
        report = services.verify_blobs(decrypt=decrypt, progress=lambda n: None)
        for problem in report.problems[:20]:
            click.secho(f"blob: {problem}", fg="red")
        click.echo(f"blobs: {report.checked} checked, {len(report.problems)} failed, "
                   f"{len(report.orphans)} orphaned (unreferenced) blobs")
        failed = failed or bool(report.problems)
        if repair:
            done = services.repair_blobs(report)
            click.echo(f"repair: deleted {len(done.orphans_deleted)} orphaned blobs and {done.shredded_deleted} blobs "
                       f"of disposed files; kept {len(done.orphans_kept)} orphaned blobs younger than the grace period")
            if report.problems:
                click.secho(f"repair: {len(report.problems)} failed blobs cannot be repaired: restore them from a backup",
                            fg="red")
    if index:
        from ..search.index_cli import report_index

        report_index()  # derived data: reported, repaired by `archive reindex`, not a failure of the archive
    sys.exit(1 if failed else 0)


@click.group()
def keys() -> None:
    """Master keys: list, rotate, retire, export, import."""


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


_passphrase_file = click.option(
    "--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the passphrase from this file instead of prompting for it.")


def _sealed_keys(action: str, path: Path, passphrase_file: Path | None) -> list[str]:
    """Export to or import from a passphrase-sealed key file; a refusal is one red line and exit 1."""
    from ..backup import keyexport

    if passphrase_file is not None:
        passphrase = passphrase_file.read_text("utf-8").rstrip("\n")
    else:  # an export asks twice: a mistyped passphrase would lock the keys away for good
        passphrase = click.prompt("Passphrase", hide_input=True, confirmation_prompt=action == "export")
    try:
        return (keyexport.export_keys if action == "export" else keyexport.import_keys)(path, passphrase)
    except keyexport.KeyExportError as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)


@keys.command("export")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@_passphrase_file
@with_appcontext
def keys_export(target: Path, passphrase_file: Path | None) -> None:
    """Write every master key to TARGET sealed under a passphrase (scrypt + AES-GCM); keep it apart from backups."""
    key_ids = _sealed_keys("export", target, passphrase_file)
    click.echo(f"Exported {', '.join(key_ids)} to {target}. Without the passphrase it cannot be opened.")


@keys.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_passphrase_file
@with_appcontext
def keys_import(source: Path, passphrase_file: Path | None) -> None:
    """Create this instance's key file from an export (a new machine, before `archive restore`)."""
    key_ids = _sealed_keys("import", source, passphrase_file)
    click.echo(f"Imported {', '.join(key_ids)}.")


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

"""`archive classification sweep`: the declassification the worker runs every hour, on demand."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from . import services
from . import tasks  # noqa: F401  (registers the periodic declassification with the worker)


@click.group("classification")
def classification_cli() -> None:
    """Classification: declassify documents whose period has ended."""


@classification_cli.command("sweep")
@with_appcontext
def sweep() -> None:
    """Lower to C every document whose dated classification period has ended (safe to run again)."""
    declassified = services.declassify_expired()
    click.echo(f"Classification: {len(declassified)} document(s) declassified to C")
    for number in declassified:
        click.echo(f"  {number}")

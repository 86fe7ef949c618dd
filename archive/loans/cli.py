"""`archive loans sweep`: the sweep the worker runs every 15 minutes, on demand."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from . import services
from . import tasks  # noqa: F401  (registers the periodic sweep with the worker)


@click.group("loans")
def loans_cli() -> None:
    """Loans: expire, mark overdue and escalate."""


@loans_cli.command("sweep")
@with_appcontext
def sweep() -> None:
    """Expire requests and access whose period ended, mark paper loans overdue and notify (safe to run again)."""
    result = services.sweep()
    click.echo(f"Loans: {result.expired} expired, {result.overdue} overdue, "
               f"{result.notified} escalated to the borrower and department head")

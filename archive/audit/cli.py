"""`archive audit daily-hashes`: the chain's hash at the end of each day, to copy out of the archive."""
from __future__ import annotations

import csv
import json
import sys
from datetime import date

import click
from flask.cli import with_appcontext

from ..auth.services import SYSTEM
from ..core.uow import unit_of_work
from . import services


@click.group("audit")
def audit_cli() -> None:
    """The audit trail."""


@audit_cli.command("daily-hashes")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="How many days, newest first.")
@click.option("--before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Start with the day before this one (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
@with_appcontext
def daily_hashes(days: int, before, fmt: str) -> None:
    """For each local day with events: its last event's number and hash (the reading is audited)."""
    first_day: date | None = before.date() if before else None
    with unit_of_work():
        services.record("audit.daily_hashes", actor=SYSTEM, before=first_day.isoformat() if first_day else None)
    found = services.daily_hashes(before=first_day, days=days)
    rows = [(d.day.isoformat(), d.seq, d.hash) for d in found]
    if fmt == "json":
        click.echo(json.dumps([dict(day=day, seq=seq, hash=digest) for day, seq, digest in rows], indent=1))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(("day", "seq", "hash"))
        writer.writerows(rows)
    else:
        for day, seq, digest in rows:
            click.echo(f"{day}  {seq:>10}  {digest}")

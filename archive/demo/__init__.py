"""`archive demo`: a realistic demo archive — one project, its homes, shops and parking, customers with a
history, a few hundred Chinese papers of every category, level and department, and one log-in per role."""
from __future__ import annotations

import time

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from ..core.enums import Category, Level, UnitKind
from ..core.errors import ArchiveError
from ..core.web import error_text
from . import data
from .loader import DemoReport, DemoUnavailable, demo_project, existing_logins, load_demo


@click.command()
@click.option("--documents-per-category", "per_category", type=click.IntRange(1, 500), default=24,
              show_default=True, help="How many documents to file in each of the nine categories.")
@with_appcontext
def demo(per_category: int) -> None:
    """Load the demo archive (project 丽景苑). Safe to repeat: an existing demo is left as it is."""
    project = demo_project()
    if project is not None:
        click.echo(f"The demo archive is already loaded (project {project.code} {project.name}): nothing changed.")
        click.echo(f"Demo log-ins: {', '.join(existing_logins())} "
                   "(their passwords were shown when the demo was loaded).")
        return
    started = time.perf_counter()
    try:
        report = load_demo(per_category, progress=lambda step: click.echo(f"Loading {step} ..."))
    except DemoUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except ArchiveError as exc:
        with force_locale("en"):
            raise click.ClickException(error_text(exc)) from None
    _print_report(report, time.perf_counter() - started)


def _print_report(report: DemoReport, seconds: float) -> None:
    echo = click.echo
    echo(f"Loaded the demo archive in {seconds:.1f} s.")
    echo(f"  Project {data.PROJECT_CODE} {data.PROJECT_NAME}, {data.PROJECT_ADDRESS}: {len(data.BUILDINGS)} buildings, "
         f"{report.units[UnitKind.RESIDENTIAL]} homes, {report.units[UnitKind.SHOP]} shops, "
         f"{report.units[UnitKind.PARKING]} parking spaces; litigation file {report.litigation_number}.")
    echo(f"  {report.customers} customers ({report.companies} company), {report.occupancies} periods of ownership "
         f"or tenancy, {report.cross_references} cross-references between dossiers.")
    echo(f"  {report.total_documents} documents: {report.paper} on paper with their place in the archive room, "
         f"{report.scans} filed as JPEG scans, the rest as PDF.")
    levels = list(Level)
    echo("      " + "".join(f"{lvl.value:>6}" for lvl in levels) + "  total")
    for category in Category:
        counts = [report.documents[(category, lvl)] for lvl in levels]
        echo(f"    {category.value}" + "".join(f"{n:>6}" for n in counts) + f"{sum(counts):>7}")
    echo("  By department: " + ", ".join(f"{code} {n}" for code, n in sorted(report.departments.items())) + ".")
    echo("Demo log-ins (passwords are shown only this once):")
    for login in report.logins:
        spec = login.user
        password = login.password or "(existing account, password unchanged)"
        echo(f"  {spec.username:<18} password: {password:<18} {spec.role.value}, {spec.department}, "
             f"clearance {spec.clearance.value}: sees {login.visible} documents — {spec.sees}.")

"""`archive reindex`, `archive search QUERY --user LOGIN [--json]`, and the index part of `archive verify`."""
from __future__ import annotations

import json
import re
import sys

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from ..core.enums import Category, Level
from ..core.db import refresh_planner_statistics
from ..core.errors import AccessDenied, ArchiveError
from ..core.uow import unit_of_work
from ..extensions import db
from . import indexing, services


@click.command()
@click.option("--procs", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Writer processes (more is faster on more cores, and uses more memory).")
@with_appcontext
def reindex(procs: int) -> None:
    """Rebuild the search index from the database and the stored text, in bounded memory.

    Searches keep using the old index until the new one is committed in one step.
    """
    with tqdm(total=indexing.document_count(), unit="doc", desc="indexing", file=sys.stderr) as bar:
        count = indexing.rebuild(progress=bar.update, procs=procs)
    with unit_of_work():  # after a bulk load the planner's statistics are out of date too
        refresh_planner_statistics(db.session.connection())
    click.echo(f"Indexed {count} documents.")


def _plain_snippet(snippet: str) -> str:
    return re.sub(r"</?mark>", "", str(snippet))


@click.command("search")
@click.argument("query", default="")
@click.option("--user", "username", required=True, help="The user whose permissions apply.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--category", type=click.Choice([c.value for c in Category]))
@click.option("--level", type=click.Choice([lvl.value for lvl in Level]))
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@with_appcontext
def search(query: str, username: str, as_json: bool, category: str | None, level: str | None, sort: str,
           page: int) -> None:
    """Full-text search as USER, under the same policy and audit as the search page."""
    from flask_babel import force_locale

    from ..core.web import error_text

    identity = services.user_named(username)
    search_query = services.SearchQuery(text=query, category=Category(category) if category else None,
                                        level=Level(level) if level else None, sort=sort)
    try:
        results = services.search(identity, search_query, page=page)
    except AccessDenied:
        click.secho(f"{username} may not search the archive.", fg="red", err=True)
        sys.exit(1)
    except ArchiveError as exc:
        with force_locale("en"):
            click.secho(error_text(exc), fg="red", err=True)
        sys.exit(1)
    rows = [{
        "id": hit.document.id, "archive_number": hit.document.archive_number, "title": hit.document.title,
        "unit": hit.document.dossier.unit.full_name if hit.document.dossier.unit else hit.document.dossier.title,
        "category": hit.document.category.value, "level": hit.document.level.value,
        "date": hit.document.doc_date.isoformat(), "snippet": _plain_snippet(hit.snippet),
    } for hit in results.hits]
    if as_json:
        facets = {name: {f.value: f.count for f in values} for name, values in results.facets.items()}
        click.echo(json.dumps({"query": query, "total": results.total, "page": results.page,
                               "pages": results.pages, "results": rows, "facets": facets},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"{results.total} documents found (page {results.page} of {results.pages}).")
    for row in rows:
        click.echo(f"{row['archive_number']}  {row['level']}  {row['date']}  {row['title']}  {row['unit']}")
        if row["snippet"]:
            click.echo(f"    {row['snippet']}")


def report_index() -> None:
    """For `archive verify`: documents missing from the index, indexed from an older state, or deleted."""
    missing, stale, orphaned = indexing.index_problems()
    for label, ids in (("missing from", missing), ("stale in", stale), ("deleted but still in", orphaned)):
        if ids:
            shown = ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")
            click.secho(f"index: {len(ids)} documents {label} the index: {shown}", fg="yellow")
    if missing or stale or orphaned:
        click.echo("index: run `archive reindex` to bring it up to date")
    else:
        click.echo("index: every document is indexed and current")

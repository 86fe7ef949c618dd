"""`archive demo`: a realistic demo archive (filled in by the demo module)."""
import click
from flask.cli import with_appcontext


@click.command()
@with_appcontext
def demo() -> None:
    """Load demo data."""
    raise click.ClickException("demo data is not available yet")

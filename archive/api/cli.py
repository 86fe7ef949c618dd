"""`archive token create --user LOGIN --name NAME --days N` / `archive token revoke ID`: API tokens from the shell
(e.g. for a scanning station's service account), through the token services and their audit."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..auth.services import SYSTEM
from ..core.types import MAX_ID
from ..search.services import user_named
from . import tokens


@click.group("token")
def token_cli() -> None:
    """Personal API tokens: create one for an account, revoke one."""


@token_cli.command("create")
@click.option("--user", "username", required=True, help="The account the token acts as.")
@click.option("--name", required=True, help="Where the token is used, e.g. the scanning station.")
@click.option("--days", type=click.IntRange(1, tokens.MAX_DAYS), default=90, show_default=True,
              help="How long the token is valid.")
@with_appcontext
def create(username: str, name: str, days: int) -> None:
    """Create a token and print it: this is the only time it is shown (the archive keeps its hash)."""
    from ..cli import _fail, _service_call

    owner = user_named(username)
    if owner is None:
        _fail(f"No account {username}.")
    if not owner.is_active:
        _fail(f"The account {owner.username} is disabled: its tokens would not work.")
    created = _service_call(tokens.create_token, SYSTEM, name=name, days=days, owner=owner)
    click.echo(f"Token {created.token.id} ({created.token.prefix}…) for {owner.username}, "
               f"expires {created.token.expires_at:%Y-%m-%d %H:%M} UTC. Copy it now; it is not shown again:")
    click.echo(created.secret)


@token_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(1, MAX_ID))
@with_appcontext
def revoke(token_id: int) -> None:
    """Revoke a token by its id: it stops working at once."""
    from ..cli import _service_call

    token = _service_call(tokens.revoke, SYSTEM, token_id)
    click.echo(f"Revoked token {token.id} ({token.prefix}…) of {token.user.username}.")

"""Who may hold API tokens and who may revoke them."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.enums import Role
from ..core.permissions import Generator, RoleIn, any_of, policy
from .models import ApiToken


@dataclass(frozen=True)
class TokenOwner(Generator):
    def allows(self, identity, obj):
        return obj.user_id == identity.id

    def where(self, identity):
        return ApiToken.user_id == identity.id


def register() -> None:
    # Anyone with an account may call the API as themselves: a token grants nothing the pages would not.
    policy.register(None, "create_api_token", RoleIn(frozenset(Role)))
    # The owner, and an administrator (who manages accounts, and so may cut off a leaked token).
    owner_or_admin = any_of(TokenOwner(), RoleIn(frozenset({Role.ADMIN})))
    policy.register(ApiToken, "read", owner_or_admin)
    policy.register(ApiToken, "revoke", owner_or_admin)
    policy.register(None, "manage_api_tokens", RoleIn(frozenset({Role.ADMIN})))

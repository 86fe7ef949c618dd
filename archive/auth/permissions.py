"""System actions: administration is kept apart from reading documents and from reading the audit (三员分立)."""
from __future__ import annotations

from ..core.enums import Role
from ..core.permissions import RoleIn, policy


def register() -> None:
    policy.register(None, "manage_users", RoleIn(frozenset({Role.ADMIN})))
    policy.register(None, "manage_keys", RoleIn(frozenset({Role.ADMIN})))
    policy.register(None, "read_audit", RoleIn(frozenset({Role.COMPLIANCE, Role.ARCHIVE_HEAD})))

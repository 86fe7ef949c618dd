"""Who sees which panel of the landing page."""
from __future__ import annotations

from ..core.enums import Role
from ..core.permissions import RoleIn, policy


def register() -> None:
    # The archive head answers for the holdings being restorable; the administrator runs the backups (三员分立:
    # neither reads documents by seeing this).
    policy.register(None, "backup_status", RoleIn(frozenset({Role.ARCHIVE_HEAD, Role.ADMIN})))

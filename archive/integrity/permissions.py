"""Who sees the integrity page and who acknowledges its alerts (DOMAIN.md: four-property checks)."""
from __future__ import annotations

from ..core.enums import Role
from ..core.permissions import RoleIn, policy
from .models import IntegrityAlert


def register() -> None:
    # The archive head answers for the holdings; the compliance officer reads, and changes nothing.
    policy.register(None, "integrity_view", RoleIn(frozenset({Role.ARCHIVE_HEAD, Role.COMPLIANCE})))
    policy.register(IntegrityAlert, "acknowledge", RoleIn(frozenset({Role.ARCHIVE_HEAD})))

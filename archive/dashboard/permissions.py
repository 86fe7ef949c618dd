"""Who sees which panel of the landing page. A panel also needs the permission of the page it summarises."""
from __future__ import annotations

from ..core.enums import FILING_ROLES, Role
from ..core.permissions import RoleIn, policy

DEPARTMENT_ROLES = frozenset({Role.CLERK, Role.DEPT_HEAD})


def register() -> None:
    # The archive head answers for the holdings being restorable; the administrator runs the backups (三员分立:
    # neither reads documents by seeing this).
    policy.register(None, "backup_status", RoleIn(frozenset({Role.ARCHIVE_HEAD, Role.ADMIN})))
    # A department's people watch its own handover deadlines and their own loans; the archive's staff have
    # their desk and the batches sent to them instead.
    policy.register(None, "dashboard_own_work", RoleIn(DEPARTMENT_ROLES))
    # Batches to sign off, send, check or confirm: the people who file and receive (a witness from the
    # compliance office is asked in person).
    policy.register(None, "dashboard_handovers", RoleIn(FILING_ROLES))
    # Recent searches and audit alerts are the compliance officer's watch (the archive head reads the trail
    # when needed, from the audit page).
    policy.register(None, "dashboard_audit", RoleIn(frozenset({Role.COMPLIANCE})))

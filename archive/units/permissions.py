"""Who may see and keep the register of projects, units, customers and dossiers."""
from __future__ import annotations

from ..core.enums import FILING_ROLES, READING_ROLES, REGISTER_ROLES
from ..core.permissions import RoleIn, policy
from .models import Customer, Dossier, Project


def register() -> None:
    # The dossier shell (unit, customers, cross-references) is seen by everyone who works with dossiers;
    # the documents inside are filtered by the document policy.
    policy.register(Dossier, "read", RoleIn(READING_ROLES))
    policy.register(Dossier, "file_into", RoleIn(FILING_ROLES))
    policy.register(Dossier, "link", RoleIn(REGISTER_ROLES))
    policy.register(Dossier, "register_occupancy", RoleIn(FILING_ROLES))
    policy.register(Dossier, "close_case", RoleIn(FILING_ROLES))
    policy.register(Project, "read", RoleIn(READING_ROLES))
    policy.register(Project, "manage", RoleIn(REGISTER_ROLES))
    policy.register(Customer, "read", RoleIn(READING_ROLES))
    policy.register(None, "create_project", RoleIn(REGISTER_ROLES))
    policy.register(None, "register_customer", RoleIn(FILING_ROLES))
    policy.register(None, "browse_dossiers", RoleIn(READING_ROLES))

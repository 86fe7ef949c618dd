"""Who may import: anyone who files may import from the command line (each row is checked as a filing is);
the import page, with its folders on the server, is the archive's."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.enums import FILING_ROLES, REGISTER_ROLES
from ..core.permissions import Generator, RoleIn, all_of, policy
from .models import ImportJob


@dataclass(frozen=True)
class Starter(Generator):
    """An import's problems name files and titles: only the person who started it sees them."""

    def allows(self, identity, obj):
        return obj.created_by_id == identity.id

    def where(self, identity):
        return ImportJob.created_by_id == identity.id


def register() -> None:
    policy.register(None, "import_documents", RoleIn(FILING_ROLES))
    policy.register(None, "import_page", RoleIn(REGISTER_ROLES))
    policy.register(ImportJob, "read", all_of(RoleIn(REGISTER_ROLES), Starter()))

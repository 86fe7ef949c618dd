"""Who keeps the boxes and prints catalogues (DOMAIN.md: the archivist manages boxes and shelves, prints catalogues).

A catalogue or label lists only the documents its printer may read: that filter is applied where the
documents are selected (policy.where(identity, "read", Document)), not here.
"""
from __future__ import annotations

from ..core.enums import READING_ROLES, REGISTER_ROLES, Role
from ..core.permissions import RoleIn, policy
from ..units.models import Dossier
from .models import Box

ARCHIVE_STAFF = RoleIn(REGISTER_ROLES)
OVERSEERS = RoleIn(REGISTER_ROLES | {Role.COMPLIANCE})


def register() -> None:
    policy.register(None, "create_box", ARCHIVE_STAFF)
    policy.register(None, "browse_boxes", OVERSEERS)
    policy.register(Box, "read", OVERSEERS)
    policy.register(Box, "move", ARCHIVE_STAFF)
    policy.register(Box, "fill", ARCHIVE_STAFF)  # put documents in, take them out
    policy.register(Box, "print_label", ARCHIVE_STAFF)
    # Whoever sees a dossier may print its catalogue: it lists what the dossier page lists them.
    policy.register(Dossier, "print_catalogue", RoleIn(READING_ROLES))
    policy.register(None, "print_departed_catalogue", OVERSEERS)

"""Who may see and change the retention schedule, appraise, hold, propose, approve and witness disposals."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.enums import REGISTER_ROLES, Role
from ..core.permissions import Related, RoleIn, all_of, policy
from ..documents.models import Document
from .models import Disposal, DisposalItem

ARCHIVE_HEADS = RoleIn(frozenset({Role.ARCHIVE_HEAD}))
# The archive's staff and the compliance officer oversee retention; the compliance officer changes nothing.
OVERSEERS = RoleIn(REGISTER_ROLES | {Role.COMPLIANCE})


def _clearance_reaches_every_item(identity):
    """A disposal lists titles and numbers: only those cleared for all its documents see it at all."""
    return ~sa.exists().where(
        DisposalItem.disposal_id == Disposal.id, DisposalItem.document_id == Document.id,
        Document.level.not_in([lvl.value for lvl in identity.clearance.covered()]),
    )


reader = all_of(OVERSEERS, Related(Disposal, _clearance_reaches_every_item))


def register() -> None:
    policy.register(None, "view_retention", OVERSEERS)  # schedule, appraisal list, holds, disposals
    policy.register(None, "edit_schedule", ARCHIVE_HEADS)
    policy.register(None, "appraise", ARCHIVE_HEADS)  # keep documents longer
    policy.register(None, "place_hold", ARCHIVE_HEADS)
    policy.register(None, "propose_disposal", RoleIn(REGISTER_ROLES))
    policy.register(Disposal, "read", reader)
    policy.register(Disposal, "approve", all_of(reader, ARCHIVE_HEADS))
    # A witness (监销人) is one of the archive's staff or the compliance officer, cleared for every document;
    # the service excludes the proposer, the approver and the other witness.
    policy.register(Disposal, "witness", reader)
    policy.register(Disposal, "cancel", all_of(reader, RoleIn(REGISTER_ROLES)))
    policy.register(Disposal, "open_register", reader)

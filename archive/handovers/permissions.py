"""Who may assemble, sign off, send, receive and witness a handover (DOMAIN.md: Handover)."""
from __future__ import annotations

import sqlalchemy as sa

from ..auth.models import Department
from ..core.enums import FILING_ROLES, READING_ROLES, REGISTER_ROLES, Role
from ..core.permissions import OwnDepartment, Related, RoleIn, all_of, any_of, policy
from ..documents.models import Document
from .models import Handover, HandoverItem, HandoverRule

DEPT_HEADS = frozenset({Role.DEPT_HEAD})
OVERSEERS = REGISTER_ROLES | {Role.COMPLIANCE}


def _receiver_is_archive(identity):
    return sa.exists().where(Department.id == Handover.to_department_id, Department.is_archive.is_(True))


def _in_the_archive(identity):
    """The identity belongs to the archive (the GM office), whichever batch it is."""
    return sa.exists().where(Department.id == identity.department_id, Department.is_archive.is_(True))


# The handing department's filers assemble, send and cancel; its head signs off.
sender = all_of(RoleIn(FILING_ROLES), OwnDepartment(Handover.from_department_id))
sending_head = all_of(RoleIn(DEPT_HEADS), OwnDepartment(Handover.from_department_id))
# The receiving department's filers check; the archive's staff receive for the archive.
receiver = any_of(
    all_of(RoleIn(FILING_ROLES), OwnDepartment(Handover.to_department_id)),
    all_of(RoleIn(REGISTER_ROLES), Related(Handover, _receiver_is_archive)),
)
# A witness (监交人) comes from the receiving department or the archive; who acted on the batch is excluded
# by the service, which knows the people.
witness = all_of(
    RoleIn(READING_ROLES),
    any_of(OwnDepartment(Handover.to_department_id), Related(Handover, _in_the_archive)),
)
def _clearance_reaches_every_line(identity):
    """A batch lists titles and numbers: only those cleared for all its lines see it at all."""
    return ~sa.exists().where(
        HandoverItem.handover_id == Handover.id, HandoverItem.document_id == Document.id,
        Document.level.not_in([lvl.value for lvl in identity.clearance.covered()]),
    )


# The list of a batch is the business of both departments and the archive, up to their clearance.
reader = all_of(
    any_of(
        all_of(RoleIn(READING_ROLES), any_of(OwnDepartment(Handover.from_department_id),
                                             OwnDepartment(Handover.to_department_id))),
        RoleIn(OVERSEERS),
    ),
    Related(Handover, _clearance_reaches_every_line),
)


def register() -> None:
    policy.register(HandoverRule, "assemble", all_of(RoleIn(FILING_ROLES),
                                                      OwnDepartment(HandoverRule.from_department_id)))
    policy.register(Handover, "read", reader)
    policy.register(Handover, "edit", sender)
    policy.register(Handover, "send", sender)
    policy.register(Handover, "cancel", sender)
    policy.register(Handover, "confirm_sending", sender)
    policy.register(Handover, "sign_off", sending_head)
    policy.register(Handover, "check", receiver)
    policy.register(Handover, "witness", witness)
    # The verification page: any signed-in person may ask whether a printed receipt is genuine.
    policy.register(None, "verify_receipt", RoleIn(frozenset(Role)))
    # Deadlines: every department sees its own; the archive and compliance see all of them.
    policy.register(None, "handover_deadlines", RoleIn(READING_ROLES))
    policy.register(None, "all_handover_deadlines", RoleIn(OVERSEERS))

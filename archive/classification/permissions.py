"""Who may see a classification change and act on it (DOMAIN.md: Classification and need-to-know)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..core.enums import Role
from ..core.permissions import ClearanceCovers, Generator, Related, RoleIn, all_of, any_of, policy
from ..documents.models import Document
from .models import ClassificationChange

APPROVER_ROLES = frozenset({Role.DEPT_HEAD, Role.ARCHIVE_HEAD})


@dataclass(frozen=True)
class Requester(Generator):
    def allows(self, identity, obj):
        return obj.requested_by_id == identity.id

    def where(self, identity):
        return ClassificationChange.requested_by_id == identity.id


def _document_readable(identity):
    readable = policy.where(identity, "read", Document)
    return sa.exists().where(Document.id == ClassificationChange.document_id, readable)


requester = Requester()
# A request names the document and both levels: visible to those who may read the document and whose
# clearance reaches both levels (the requester, the approvers, the archive), and to the requester always.
change_read_rule = any_of(
    requester,
    all_of(
        ClearanceCovers(ClassificationChange.old_level),
        ClearanceCovers(ClassificationChange.new_level),
        Related(ClassificationChange, _document_readable),
    ),
)


def register() -> None:
    policy.register(ClassificationChange, "read", change_read_rule)
    policy.register(ClassificationChange, "cancel", requester)
    policy.register(None, "approve_classification", RoleIn(APPROVER_ROLES))  # has a list of requests to decide

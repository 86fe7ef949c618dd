"""Who may do what with documents (DOMAIN.md: classification and need-to-know)."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.enums import CROSS_DEPARTMENT_ROLES, FILING_ROLES, READING_ROLES, REGISTER_ROLES
from ..core.permissions import ClearanceCovers, OwnDepartment, Related, RoleIn, all_of, any_of, policy
from .models import Document, KnowledgeScope


def _in_knowledge_scope(identity):
    return sa.exists().where(
        KnowledgeScope.document_id == Document.id,
        sa.or_(KnowledgeScope.department_id == identity.department_id, KnowledgeScope.user_id == identity.id),
    )


clearance_covers = ClearanceCovers(Document.level)
own_department = OwnDepartment(Document.department_id)
in_knowledge_scope = Related(Document, _in_knowledge_scope)

# Clearance ≥ level AND need-to-know: own department, knowledge scope, or a cross-department role.
# Later modules (loans) add their own need-to-know generator to `need_to_know`.
need_to_know = [RoleIn(CROSS_DEPARTMENT_ROLES), own_department, in_knowledge_scope]


def read_rule():
    return all_of(RoleIn(READING_ROLES), clearance_covers, any_of(*need_to_know))


# Changing a document (metadata, new version) is for its own department's filers and the archive.
edit_rule = all_of(
    RoleIn(FILING_ROLES), clearance_covers, any_of(RoleIn(REGISTER_ROLES), own_department)
)


def register() -> None:
    policy.register(Document, "read", read_rule())
    policy.register(Document, "read_file", read_rule())
    policy.register(Document, "edit", edit_rule)

"""Who may do what with documents (DOMAIN.md: classification and need-to-know)."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.enums import CROSS_DEPARTMENT_ROLES, FILING_ROLES, READING_ROLES, REGISTER_ROLES
from ..core.permissions import ClearanceCovers, OwnDepartment, Related, RoleIn, all_of, any_of, policy
from ..core.types import utcnow
from ..loans.models import Loan, LoanItem, LoanStatus, LoanUse
from .models import Document, KnowledgeScope


# The related-table conditions are uncorrelated IN lists, not EXISTS: the database works out the few ids once
# and answers "own department OR in one of the lists" from indexes, where a correlated EXISTS would be run
# for every document of other departments (at 100,000 documents: 15 ms against 65 ms on SQLite).


def _in_knowledge_scope(identity):
    return Document.id.in_(sa.select(KnowledgeScope.document_id).where(
        sa.or_(KnowledgeScope.department_id == identity.department_id, KnowledgeScope.user_id == identity.id)))


def _on_loan(*uses: LoanUse):
    """An issued electronic loan of the identity's own covering the document, running now.

    "Now" is taken when the clause is built (each check, each listing), so access ends exactly at
    ends_at, whether or not the overdue sweep has run yet.
    """

    def condition(identity):
        now = utcnow()
        return Document.id.in_(sa.select(LoanItem.document_id).join(Loan, LoanItem.loan_id == Loan.id).where(
            Loan.borrower_id == identity.id,
            Loan.status == LoanStatus.ISSUED,
            Loan.use.in_(uses),
            Loan.starts_at <= now,
            Loan.ends_at > now,
        ))

    return condition


clearance_covers = ClearanceCovers(Document.level)
own_department = OwnDepartment(Document.department_id)
in_knowledge_scope = Related(Document, _in_knowledge_scope)
# An electronic loan gives the need to know; only a copy loan gives the original file as well.
on_electronic_loan = Related(Document, _on_loan(LoanUse.VIEW, LoanUse.COPY))
on_copy_loan = Related(Document, _on_loan(LoanUse.COPY))

# Clearance ≥ level AND need-to-know: own department, knowledge scope, a cross-department role, or a loan.
# A loan never lifts clearance: it sits inside the same rule as every other reason to know.
need_to_know = [RoleIn(CROSS_DEPARTMENT_ROLES), own_department, in_knowledge_scope]


def _reading(*reasons):
    return all_of(RoleIn(READING_ROLES), clearance_covers, any_of(*need_to_know, *reasons))


def read_rule():
    return _reading(on_electronic_loan)


# Changing a document (metadata, new version) is for its own department's filers and the archive.
edit_rule = all_of(
    RoleIn(FILING_ROLES), clearance_covers, any_of(RoleIn(REGISTER_ROLES), own_department)
)

# Asking to borrow needs the clearance only: the catalogue entry is visible, the need to know is what
# the loan grants.
request_rule = all_of(RoleIn(READING_ROLES), clearance_covers)


def register() -> None:
    policy.register(Document, "read", read_rule())
    policy.register(Document, "view_rendition", read_rule())  # the watermarked copy a borrower reads
    policy.register(Document, "read_file", _reading(on_copy_loan))  # the original file: download, preview
    policy.register(Document, "edit", edit_rule)
    policy.register(Document, "request", request_rule)

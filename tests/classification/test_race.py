"""Two final approvals at the same moment apply the change once (real parallel transactions, as in
tests/loans/test_race.py: on PostgreSQL each waits for the other's row lock)."""
from __future__ import annotations

from archive.classification import services
from archive.classification.models import ApprovalStep, ChangeStatus, ClassificationChange
from archive.core.enums import Level, LevelPeriod, Role
from archive.core.errors import Conflict
from archive.documents.models import Document
from tests.classification.conftest import ask, audit_details, fresh
from tests.loans.test_race import at_once

ROUNDS = 4


def test_two_approvals_of_the_last_step_at_once_apply_the_change_once(app, factory, people, document):
    second_head = factory.user("gmo-head-2", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    level = Level.B
    for n in range(ROUNDS):
        level = Level.A if level is Level.B else Level.B
        change = ask(people.requester, fresh(Document, document.id), level=level, period=LevelPeriod.LONG_TERM)
        services.decide(people.sales_head, change.id, ApprovalStep.DEPARTMENT_HEAD, True)
        decide = lambda user, change_id=change.id: services.decide(  # noqa: E731
            user, change_id, ApprovalStep.ARCHIVE_HEAD, True)
        results = at_once(app, [(people.archive_head.id, decide), (second_head.id, decide)])

        assert sorted(type(r).__name__ for r in results) == ["ClassificationChange", "Conflict"], results
        assert any(isinstance(r, Conflict) for r in results)
        assert fresh(ClassificationChange, change.id).status is ChangeStatus.APPROVED
        assert fresh(Document, document.id).level is level
    assert len(audit_details("classification.apply")) == ROUNDS

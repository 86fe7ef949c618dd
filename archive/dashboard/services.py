"""What the landing page shows a person: only the panels their roles may see, each from its own service."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Iterable, TypeVar

from ..audit import services as audit
from ..auth import services as auth
from ..backup import services as backups
from ..classification import services as classification
from ..core.permissions import policy
from ..handovers import deadlines as handover_deadlines
from ..handovers import services as handovers
from ..integrity import services as integrity
from ..loans import services as loans
from ..loans.models import OPEN_STATUSES as OPEN_LOAN_STATUSES
from ..retention import services as retention

TOP = 10  # rows a panel lists; its link leads to the full page
T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The first TOP rows of a work list and the exact number of rows."""

    total: int
    rows: list[T]

    @classmethod
    def of(cls, rows: Iterable[T]) -> "Listing[T]":
        rows = list(rows)
        return cls(len(rows), rows[:TOP])


@dataclass(frozen=True)
class HandoversDue:
    overdue: Listing[handover_deadlines.DueDocument]
    due_soon: Listing[handover_deadlines.DueDocument]


@dataclass(frozen=True)
class RecentSearch:
    """One full-text search from the audit trail: who looked for what, and how much they found."""

    at: datetime
    actor: str
    query: str
    results: int | None


@dataclass(frozen=True)
class Dashboard:
    # Each panel is None when it is not this person's to see.
    handovers_due: HandoversDue | None
    my_loans: Listing[Any] | None
    loan_steps: Listing[Any] | None
    classification_changes: Listing[Any] | None
    handovers_waiting: Listing[Any] | None
    loan_desk: loans.Desk | None
    disposals_waiting: Listing[Any] | None
    integrity_alerts: list[Any] | None
    recent_searches: Listing[RecentSearch] | None
    audit_alerts: audit.AuditAlerts | None
    backup_status: backups.BackupStatus | None
    locked_out: list[str] | None

    @property
    def empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def _handovers_due(identity) -> HandoversDue:
    own = handover_deadlines.deadlines(identity, identity.department_id)
    return HandoversDue(overdue=Listing.of(d for dept in own for d in dept.overdue),
                        due_soon=Listing.of(d for dept in own for d in dept.due_soon))


def _recent_searches(identity) -> Listing[RecentSearch]:
    """Reading them is reading the trail: recorded like every audit view."""
    page = audit.list_events(identity, audit.EventFilter(action="search.fulltext"), per_page=TOP)
    searches = []
    for event in page.items:
        details = json.loads(event.details or "{}")
        searches.append(RecentSearch(event.occurred_at, event.actor_name, details.get("query", ""),
                                     details.get("results")))
    return Listing(page.total, searches)


def dashboard(identity) -> Dashboard:
    can = lambda *actions: all(policy.can(identity, action) for action in actions)  # noqa: E731
    return Dashboard(
        handovers_due=_handovers_due(identity) if can("dashboard_own_work", "handover_deadlines") else None,
        my_loans=Listing.of(loan for loan in loans.my_loans(identity) if loan.status in OPEN_LOAN_STATUSES)
        if can("dashboard_own_work", "borrow") else None,
        loan_steps=Listing.of(loans.inbox(identity)) if can("approve_loans") else None,
        classification_changes=Listing.of(classification.waiting_for(identity))
        if can("approve_classification") else None,
        handovers_waiting=Listing.of(handovers.waiting_for(identity))
        if can("dashboard_handovers", "handover_deadlines") else None,
        loan_desk=loans.desk(identity) if can("loan_desk") else None,
        disposals_waiting=Listing.of(retention.waiting_for(identity)) if can("view_retention") else None,
        integrity_alerts=integrity.open_alerts() if can("integrity_view") else None,
        recent_searches=_recent_searches(identity) if can("dashboard_audit", "read_audit") else None,
        audit_alerts=audit.alerts(identity) if can("dashboard_audit", "read_audit") else None,
        backup_status=backups.status() if can("backup_status") else None,
        locked_out=auth.locked_out_logins(identity) if can("manage_users") else None,
    )

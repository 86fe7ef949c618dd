"""What the landing page shows a person: only the panels their roles may see, each from its own service."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..backup import services as backups
from ..core.permissions import policy
from ..integrity import services as integrity


@dataclass(frozen=True)
class Dashboard:
    integrity_alerts: list[Any] | None  # None: not this person's to see
    backup_status: backups.BackupStatus | None

    @property
    def empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def dashboard(identity) -> Dashboard:
    return Dashboard(
        integrity_alerts=integrity.open_alerts() if policy.can(identity, "integrity_view") else None,
        backup_status=backups.status() if policy.can(identity, "backup_status") else None,
    )

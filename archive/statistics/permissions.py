"""Who sees the statistics page. Each figure on it also needs the permission of the page it comes from
(handover deadlines, loan statistics, retention), and counts only what the viewer may see."""
from __future__ import annotations

from ..core.enums import READING_ROLES
from ..core.permissions import RoleIn, policy


def register() -> None:
    # Holdings count the documents the viewer reads, so the page is for those who read documents at all.
    policy.register(None, "statistics", RoleIn(READING_ROLES))

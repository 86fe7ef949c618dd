"""Errors services raise; views turn them into clear 4xx answers."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ArchiveError(Exception):
    """A problem the user can understand and fix; the message is shown (translated) to them.

    The message stays an untranslated literal with %(name)s placeholders filled from `details` at display
    time; `problems` carries the errors a summary stands for (e.g. each refused file), each translated too.
    """

    status_code = 400

    def __init__(self, message: str, *, problems: Sequence[ArchiveError] = (), **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.problems = list(problems)


class ValidationError(ArchiveError):
    status_code = 400


class NotFound(ArchiveError):
    status_code = 404


class Conflict(ArchiveError):
    status_code = 409


class Gone(ArchiveError):
    """The record is kept but its content was destroyed (a disposed document): 410."""

    status_code = 410


class AccessDenied(Exception):
    """The policy refused. Shown as 404 for objects (an invisible document looks exactly like a missing one)."""

    def __init__(self, action: str, obj: Any = None) -> None:
        super().__init__(action)
        self.action = action
        self.obj = obj

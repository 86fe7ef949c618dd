"""Every API error as application/problem+json (RFC 9457) with a stable type, never a stack trace."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, json
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..core.errors import ArchiveError, Conflict, Gone, NotFound, ValidationError
from ..core.web import error_text
from ..extensions import db

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://property-archive.example/problems/"

# slug: (status, title). The slugs are part of the API: clients may branch on them; never rename one.
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "The request is not valid"),
    "validation-error": (400, "The archive refused the request"),
    "csrf-failed": (400, "CSRF token missing or wrong"),
    "unauthorized": (401, "Authentication required"),
    "forbidden": (403, "Not allowed"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict with the current state"),
    "gone": (410, "The content was destroyed"),
    "payload-too-large": (413, "The upload is too large"),
    "invalid-parameters": (422, "The parameters do not match the schema"),
    "server-error": (500, "Internal error"),
}
_SLUG_OF_STATUS = {status: slug for slug, (status, _title) in reversed(PROBLEMS.items())}
_SLUG_OF_ERROR = {ValidationError: "validation-error", NotFound: "not-found", Conflict: "conflict", Gone: "gone"}


def problem(slug: str, detail: str, *, status: int | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    default_status, title = PROBLEMS[slug]
    status = status or default_status
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def problem_for_status(status: int, detail: str) -> Response:
    """For errors answered outside the API's views (routing, the app's access-denied handler)."""
    return problem(_SLUG_OF_STATUS.get(status, "bad-request" if status < 500 else "server-error"), detail,
                   status=status)


def problem_types_description() -> str:
    """The list of problem types, for the OpenAPI description."""
    return "\n".join(f"- `{PROBLEM_BASE}{slug}` ({status}): {title}" for slug, (status, title) in PROBLEMS.items())


def register_error_handlers(blueprint) -> None:
    """Refusals by the policy (AccessDenied, audited) and unexpected errors are answered by the app's handlers,
    which call `problem_for_status` for /api/ paths."""

    @blueprint.errorhandler(ArchiveError)
    def archive_error(exc: ArchiveError):
        db.session.rollback()
        slug = next((s for cls, s in _SLUG_OF_ERROR.items() if isinstance(exc, cls)), "validation-error")
        return problem(slug, error_text(exc), status=exc.status_code)

    @blueprint.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return problem("csrf-failed", _("A request with the session cookie needs the CSRF token (X-CSRFToken); "
                                        "programs should send an API token instead."))

    @blueprint.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 422:  # webargs: the parameters do not match the schema; say which and why
            messages = (getattr(exc, "data", None) or {}).get("messages", {})
            return problem("invalid-parameters", _("The parameters do not match the schema."), errors=messages)
        if exc.code == 413:
            return problem("payload-too-large", _("The upload is too large: send at most %(mb)s MB in one request.",
                                                  mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)))
        response = problem_for_status(exc.code or 500, exc.description or "")
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response


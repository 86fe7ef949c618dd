"""Behaviour shared by every page: error answers, security headers, template helpers."""
from __future__ import annotations

import logging
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask, Response, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from ..extensions import db
from .enums import CATEGORY_LABELS, LEVEL_LABELS, Category, Level, Role
from .errors import AccessDenied, ArchiveError
from .permissions import policy
from .types import MAX_ID

log = logging.getLogger(__name__)


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only same-site paths: never redirect a user to another host (after log-in, after an action).

    Browsers read a backslash as a slash ("/\\evil.example" is "//evil.example"), so none is allowed,
    nor any control character that a browser would strip before parsing.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and all(ch.isprintable() for ch in target)
        and not urlsplit(target).netloc
    ):
        return target
    return default or url_for("index")


def send_private(stream, *, media_type: str, filename: str, size: int | None = None,
                 as_attachment: bool = False) -> Response:
    """Stream a decrypted file (a large scan never sits in memory); no copy may be cached anywhere."""
    response = send_file(stream, mimetype=media_type, as_attachment=as_attachment, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    if size is not None:
        response.content_length = size
    response.headers["Cache-Control"] = "private, no-store"
    return response


def error_text(exc: ArchiveError) -> str:
    """The error in the reader's language, followed by each problem it stands for."""
    return " ".join([_(exc.message, **exc.details), *(error_text(problem) for problem in exc.problems)])


def perform_step(action: Callable[[], object], success: str, *, done: str,
                 refused: Callable[[ArchiveError], Response]) -> Response:
    """One workflow step from a page: on success flash and go to `done`; a refusal is shown by `refused`
    (the record's page with the reason, and the form as it was sent)."""
    try:
        action()
    except ArchiveError as exc:
        return refused(exc)
    flash(success, "success")
    return redirect(done)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_page(status: int, message: str):
    if request.path.startswith("/api/"):
        from ..api.errors import problem_for_status

        return problem_for_status(status, message)
    if wants_json():
        return jsonify(error=message, status=status), status
    return render_template("errors/error.html", status=status, message=message), status


class BoundedInt(IntegerConverter):
    """`<int:…>` in every route: an id past MAX_ID is a 404, not an overflow error from the database."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def register_web_behaviour(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedInt
    @app.errorhandler(AccessDenied)
    def access_denied(exc: AccessDenied):
        from ..audit.services import DENIED, describe, record_now

        obj_type, obj_id = describe(exc.obj)
        record_now(
            "access.denied",
            actor=current_user if current_user.is_authenticated else None,
            object_type=obj_type,
            object_id=obj_id,
            outcome=DENIED,
            attempted=exc.action,
            path=request.path,
        )
        if exc.obj is not None:
            # An invisible object answers exactly like one that does not exist.
            return error_page(404, _("Not found."))
        return error_page(403, _("You are not allowed to do this."))

    @app.errorhandler(ArchiveError)
    def archive_error(exc: ArchiveError):
        db.session.rollback()
        return error_page(exc.status_code, error_text(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_page(400, _("The form has expired or was not sent from this site. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            400: _("The request is not valid. Reload the page and try again."),
            403: _("You are not allowed to do this."),
            404: _("Not found."),
            405: _("This action is not available here."),
            413: _("The upload is too large: send at most %(mb)s MB in one request.",
                   mb=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)),
        }
        message = messages.get(exc.code) or _("The request could not be answered (HTTP status %(code)s).",
                                              code=exc.code)
        return error_page(exc.code or 500, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_page(500, _("Something went wrong on our side. Nothing was saved; please try again."))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; object-src 'self'; frame-ancestors 'self'",
        )
        return response

    @app.context_processor
    def template_helpers():
        return {
            "get_locale": get_locale,
            "can": lambda action, obj=None: policy.can(current_user, action, obj),
            "Level": Level,
            "Category": Category,
            "Role": Role,
            "LEVEL_LABELS": LEVEL_LABELS,
            "CATEGORY_LABELS": CATEGORY_LABELS,
        }

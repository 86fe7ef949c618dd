"""The API's frame: the OpenAPI document, blueprints that authenticate by token or session, the parser."""
from __future__ import annotations

import http

from flask import Flask, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from webargs.core import MultiDictProxy
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from ..extensions import csrf
from .errors import PROBLEM_JSON, problem, problem_types_description, register_error_handlers
from .schemas import ProblemSchema
from .tokens import TokenRefused, authenticate

API_PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Row ids in paths stop at PostgreSQL's integer range: a larger one is a 404, never an overflow in the database.
ROW_ID = "int(max=2147483647)"

DESCRIPTION = f"""The Property Archive's JSON API. Every call acts as one user, under the same permission policy
and audit trail as the pages: a document the user may not read is answered as `404 not-found`, exactly as
if it did not exist.

Authenticate with `Authorization: Bearer <token>` (create a token under *My account → API tokens*). Requests
with the session cookie instead must send the CSRF token in `X-CSRFToken` for every method that changes data.

Lists are paged by cursor: pass `limit` (at most 100) and the `next_cursor` of the previous page as `cursor`;
`next` is the address of the following page, `null` on the last one.

Errors are `application/problem+json` objects `{{type, title, status, detail}}`; `type` is one of:

{problem_types_description()}
"""


class ArchiveApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Errors are answered by the API blueprints' own handlers (problem+json), not for the whole app."""

    def _register_responses(self):
        """The error responses of the document are problem+json, as the handlers answer them."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error: see the problem types above", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


class ApiParser(FlaskParser):
    """Adds the `multipart` location: the form fields and the files of one multipart/form-data body."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}

    def __init__(self, name: str, import_name: str, *, url_prefix: str = "", **kwargs) -> None:
        super().__init__(name, import_name, url_prefix=API_PREFIX + url_prefix, **kwargs)
        self.before_request(_authenticate)
        register_error_handlers(self)


def _bearer_token() -> str | None:
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value.strip() else None


def _authenticate():
    """A bearer token decides who calls, whatever cookie comes with it; without one, the session does, and
    then CSRF applies as on the pages (the blueprints are exempt from the app-wide check for this reason)."""
    secret = _bearer_token()
    if secret is not None:
        try:
            g._login_user = authenticate(secret)  # Flask-Login's current user for this request only
        except TokenRefused as exc:
            return _unauthorized(str(exc.message))
        return None
    if not current_user.is_authenticated:
        return _unauthorized(_("Send an API token: Authorization: Bearer <token>."))
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None


def _unauthorized(detail: str):
    return problem("unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="property-archive"'})


def init_api(app: Flask) -> ArchiveApi:
    app.config.setdefault("API_TITLE", "Property Archive")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    })
    api = ArchiveApi(app)
    from . import documents, handovers, loans, projects, search

    for module in (projects, documents, search, loans, handovers):
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    return api

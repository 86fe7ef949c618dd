"""Property Archive: one dossier per property unit (一户一档), encrypted, audited."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, session, url_for
from flask_login import current_user

from . import config as config_module
from .extensions import babel, csrf, db, login_manager, migrate

SUPPORTED_LOCALES = ("zh_Hans", "en")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        instance_path=config_module.instance_path(),
        instance_relative_config=True,
    )
    config_module.load(app, config)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _instance_secret(app)

    from .core import db as _db_events  # noqa: F401  (connection behaviour for every engine)
    from .documents.numbering import check_rules

    check_rules(app.config)
    _import_models()
    _register_policies()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    from .core.web import register_web_behaviour

    register_web_behaviour(app)
    _register_blueprints(app)

    @app.get("/")
    def index():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for("dashboard.home"))

    from .cli import register_commands

    register_commands(app)
    logging.getLogger("archive").setLevel(logging.INFO)
    return app


def _import_models() -> None:
    """Every model must be known to the metadata before migrations or create_all run."""
    from .api import models as _api  # noqa: F401
    from .audit import models as _audit  # noqa: F401
    from .auth import models as _auth  # noqa: F401
    from .classification import models as _classification  # noqa: F401
    from .backup import models as _backup  # noqa: F401
    from .core import models as _core  # noqa: F401
    from .documents import models as _documents  # noqa: F401
    from .handovers import models as _handovers  # noqa: F401
    from .imports import models as _imports  # noqa: F401
    from .integrity import models as _integrity  # noqa: F401
    from .loans import models as _loans  # noqa: F401
    from .notifications import models as _notifications  # noqa: F401
    from .retention import models as _retention  # noqa: F401
    from .search import models as _search  # noqa: F401
    from .shelving import models as _shelving  # noqa: F401
    from .units import models as _units  # noqa: F401


def _register_policies() -> None:
    from .api.permissions import register as api_rules
    from .auth.permissions import register as auth_rules
    from .classification.permissions import register as classification_rules
    from .dashboard.permissions import register as dashboard_rules
    from .documents.permissions import register as document_rules
    from .handovers.permissions import register as handover_rules
    from .imports.permissions import register as import_rules
    from .integrity.permissions import register as integrity_rules
    from .loans.permissions import register as loan_rules
    from .retention.permissions import register as retention_rules
    from .shelving.permissions import register as shelving_rules
    from .statistics.permissions import register as statistics_rules
    from .units.permissions import register as unit_rules

    for register in (api_rules, auth_rules, unit_rules, document_rules, loan_rules, shelving_rules, handover_rules,
                     classification_rules, integrity_rules, retention_rules, dashboard_rules, import_rules,
                     statistics_rules):
        register()


def _register_blueprints(app: Flask) -> None:
    from .api.framework import init_api
    from .api.views import bp as api_tokens_bp
    from .audit.views import bp as audit_bp
    from .auth.views import admin_bp, bp as auth_bp
    from .classification.views import bp as classification_bp
    from .dashboard.views import bp as dashboard_bp
    from .documents.views import bp as documents_bp
    from .handovers.views import bp as handovers_bp
    from .imports.views import bp as imports_bp
    from .integrity.views import bp as integrity_bp
    from .loans.views import bp as loans_bp
    from .retention.views import bp as retention_bp
    from .notifications.views import bp as notifications_bp
    from .search.views import bp as search_bp
    from .shelving.views import bp as shelving_bp
    from .statistics.views import bp as statistics_bp
    from .units.views import bp as units_bp

    for bp in (api_tokens_bp, auth_bp, admin_bp, units_bp, documents_bp, search_bp, loans_bp, handovers_bp, notifications_bp, audit_bp,
               shelving_bp, classification_bp, integrity_bp, retention_bp, dashboard_bp,
               statistics_bp, imports_bp):
        app.register_blueprint(bp)
    init_api(app)


def _instance_secret(app: Flask) -> str:
    """The session-signing key: ARCHIVE_SECRET_KEY, else instance/secret_key (created 0600 on first use)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def select_locale() -> str:
    """The user's setting, else the choice made on the login page, else the browser's, else Chinese."""
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    if session.get("locale") in SUPPORTED_LOCALES:
        return session["locale"]
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return "en" if best == "en" else "zh_Hans"

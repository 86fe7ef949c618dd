"""Configuration: defaults, then the instance folder's config.py, then ARCHIVE_* environment variables.

Every setting that can come from the environment is listed in ENVIRONMENT with its parser,
and the README documents each one.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

PROJECT_ROOT = Path(__file__).resolve().parent.parent


MAX_FILES_PER_REQUEST = 20


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Defaults:
    STORAGE_DIR = str(PROJECT_ROOT / "storage")
    SQLALCHEMY_DATABASE_URI: str | None = None  # derived from STORAGE_DIR when unset
    MASTER_KEY: str | None = None  # base64 keys, comma-separated; else instance/master.keys
    MAX_UPLOAD_MB = 200
    FONDS = "QZ01"
    DOSSIER_NUMBER_RULE = "{fonds}-{project}-{building}-{unit}"
    DOCUMENT_NUMBER_RULE = "{dossier}-{category}-{seq:04d}"
    LITIGATION_NUMBER_RULE = "{fonds}-{project}-SS-{seq:04d}"
    LOGIN_MAX_FAILURES = 5
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"  # argon2.profiles; not settable from the environment
    LOGIN_LOCKOUT_MINUTES = 15
    PAGE_SIZE = 50
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    # hide_parameters: a failed statement never writes personal data or hashes into the logs.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    HOST = "127.0.0.1"
    PORT = 5000
    # Text extraction and search (archive/search)
    QUEUE_URL: str | None = None  # unset: an SQLite queue at <STORAGE_DIR>/queue.db; redis://host:port/db: Redis
    QUEUE_IMMEDIATE = False  # run tasks at once in the queueing process (tests, debugging)
    # chi_sim read our Chinese scans' prose better than chi_sim+eng and is ~30% faster; chi_sim+eng keeps more
    # hyphenated identifiers (HT-2023-0158) intact (README, OCR figures).
    OCR_LANG = "chi_sim"
    TESSERACT_CMD = "tesseract"
    TEXT_MAX_ATTEMPTS = 3
    TEXT_RETRY_DELAY = 60.0  # seconds before a failed extraction is tried again
    TEXT_LEASE_SECONDS = 300.0  # a lease older than this means its worker died: the file is queued again
    INDEX_DIR: str | None = None  # unset: <STORAGE_DIR>/index
    INDEX_LEVEL_A_CONTENT = False  # level-A documents are indexed by metadata only unless this is set
    # E-mail for notifications (archive/notifications): sent only when SMTP_HOST is set.
    SMTP_HOST: str | None = None
    SMTP_PORT = 25
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM = "property-archive@localhost"
    SMTP_STARTTLS = False
    SMTP_TIMEOUT = 10.0  # seconds; a slow mail server must not hold up the page that sent the notification
    # Backups (archive/backup): nothing is scheduled until BACKUP_DIR is set. Cron fields "minute hour day month
    # weekday" in the archive's time zone.
    BACKUP_DIR: str | None = None
    BACKUP_CRONTAB = "30 2 * * *"  # daily at 02:30
    BACKUP_DRILL_CRONTAB = "0 4 * * 0"  # a restore drill of the latest backup, Sundays at 04:00
    # Integrity (archive/integrity): the periodic fixity run re-hashes every stored blob once per cycle.
    FIXITY_CYCLE_DAYS = 30
    # `archive verify --repair` leaves younger unreferenced blobs alone: a filing in progress has written its
    # blob but not yet committed its row.
    ORPHAN_GRACE_SECONDS = 3600
    # Bulk import (archive/imports): the folder on the server whose subfolders the import page offers.
    IMPORT_ROOT: str | None = None


# name (without the ARCHIVE_ prefix) -> (config key, parser)
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "STORAGE_DIR": ("STORAGE_DIR", str),
    "MASTER_KEY": ("MASTER_KEY", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "MAX_UPLOAD_MB": ("MAX_UPLOAD_MB", int),
    "FONDS": ("FONDS", str),
    "DOSSIER_NUMBER_RULE": ("DOSSIER_NUMBER_RULE", str),
    "DOCUMENT_NUMBER_RULE": ("DOCUMENT_NUMBER_RULE", str),
    "LITIGATION_NUMBER_RULE": ("LITIGATION_NUMBER_RULE", str),
    "LOGIN_MAX_FAILURES": ("LOGIN_MAX_FAILURES", int),
    "LOGIN_LOCKOUT_MINUTES": ("LOGIN_LOCKOUT_MINUTES", int),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "DEFAULT_LOCALE": ("BABEL_DEFAULT_LOCALE", str),
    "HOST": ("HOST", str),
    "PORT": ("PORT", int),
    "QUEUE_URL": ("QUEUE_URL", str),
    "QUEUE_IMMEDIATE": ("QUEUE_IMMEDIATE", _bool),
    "OCR_LANG": ("OCR_LANG", str),
    "TESSERACT_CMD": ("TESSERACT_CMD", str),
    "TEXT_MAX_ATTEMPTS": ("TEXT_MAX_ATTEMPTS", int),
    "TEXT_RETRY_DELAY": ("TEXT_RETRY_DELAY", float),
    "TEXT_LEASE_SECONDS": ("TEXT_LEASE_SECONDS", float),
    "INDEX_DIR": ("INDEX_DIR", str),
    "INDEX_LEVEL_A_CONTENT": ("INDEX_LEVEL_A_CONTENT", _bool),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_USER": ("SMTP_USER", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "SMTP_FROM": ("SMTP_FROM", str),
    "SMTP_STARTTLS": ("SMTP_STARTTLS", _bool),
    "SMTP_TIMEOUT": ("SMTP_TIMEOUT", float),
    "BACKUP_DIR": ("BACKUP_DIR", str),
    "BACKUP_CRONTAB": ("BACKUP_CRONTAB", str),
    "BACKUP_DRILL_CRONTAB": ("BACKUP_DRILL_CRONTAB", str),
    "FIXITY_CYCLE_DAYS": ("FIXITY_CYCLE_DAYS", int),
    "ORPHAN_GRACE_SECONDS": ("ORPHAN_GRACE_SECONDS", int),
    "IMPORT_ROOT": ("IMPORT_ROOT", str),
}


def instance_path() -> str:
    """The instance folder (master key, secret key, local config); ARCHIVE_INSTANCE_PATH overrides it."""
    return os.environ.get("ARCHIVE_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))


def load(app, overrides: dict[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for name, (key, parse) in ENVIRONMENT.items():
        value = os.environ.get(f"ARCHIVE_{name}")
        if value not in (None, ""):
            app.config[key] = parse(value)
    if overrides:
        app.config.update(overrides)
    storage_dir = Path(app.config["STORAGE_DIR"])
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{storage_dir / 'archive.db'}"
    # Each file is checked against MAX_UPLOAD_MB with a message naming it; the request as a whole is capped
    # too, so nobody can make the server receive an unbounded body before it refuses.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_MB"] * 1024 * 1024 * MAX_FILES_PER_REQUEST
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "connect_args": {"timeout": 30},
        }

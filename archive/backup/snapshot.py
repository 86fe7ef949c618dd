"""The database side of a backup and a restore: a consistent snapshot, what it references, and loading it back.

SQLite: the backup API copies the live database into a file in one step (readers and writers carry on;
the copy is one consistent state). PostgreSQL: a REPEATABLE READ transaction exports its snapshot, pg_dump
dumps exactly that snapshot, and the same transaction reads the counts and the blobs to copy, so the dump
and the blob list agree. The server's credentials go to pg_dump/pg_restore in the environment, never in argv.
"""
from __future__ import annotations

import base64
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, URL

from ..audit.models import AuditEvent, AuditHead
from ..auth.models import User
from ..core.keys import KEY_CHECK
from ..core.models import Setting
from ..documents.models import Document, FileVersion
from ..extensions import db
from ..storage._files import fsync_directory

SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
KEY_SAMPLES_PER_KEY = 3


class SnapshotError(RuntimeError):
    """The database could not be dumped or loaded; the message names the tool's complaint."""


@dataclass(frozen=True)
class BlobRef:
    blob_id: str
    cipher_sha256: str
    key_id: str
    wrapped_key: bytes


@dataclass
class SnapshotFacts:
    """What the snapshot holds, read from the snapshot itself."""

    counts: dict[str, int]
    audit_head: dict[str, object]
    key_check: str | None
    schema_revision: str | None
    blobs: dict[str, BlobRef] = field(default_factory=dict)

    @property
    def key_ids(self) -> list[str]:
        ids = {ref.key_id for ref in self.blobs.values()}
        if self.key_check:
            ids.add(self.key_check.split(".")[1])
        return sorted(ids)

    def key_samples(self) -> list[dict[str, str]]:
        """A few wrapped data keys per master key: a restore proves it can unwrap them before writing anything.

        A wrapped key is useless without its master key, so it may sit in the manifest."""
        samples: dict[str, list[BlobRef]] = {}
        for ref in self.blobs.values():
            chosen = samples.setdefault(ref.key_id, [])
            if len(chosen) < KEY_SAMPLES_PER_KEY:
                chosen.append(ref)
        return [{"key_id": ref.key_id, "blob_id": ref.blob_id,
                 "wrapped_key": base64.b64encode(ref.wrapped_key).decode("ascii")}
                for refs in samples.values() for ref in refs]


def dialect(url: str | URL) -> str:
    return sa.make_url(url).get_backend_name()


def dump_file_name(kind: str) -> str:
    return SQLITE_DUMP if kind == "sqlite" else POSTGRES_DUMP


def _blob_columns() -> list[tuple[sa.Table, sa.Column, str]]:
    """Every column that names a stored blob, with its prefix: `blob_id` or `<prefix>_blob_id`, beside
    `<prefix>cipher_sha256`, `<prefix>key_id` and `<prefix>wrapped_key` (files, texts, letters, receipts, and
    whatever keeps a blob the same way), so the backup copies every blob a row points at."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name == "blob_id" or column.name.endswith("_blob_id"):
                prefix = column.name[: -len("blob_id")]
                if all(f"{prefix}{name}" in table.columns for name in ("cipher_sha256", "key_id", "wrapped_key")):
                    found.append((table, column, prefix))
    return found


def read_facts(conn: Connection) -> SnapshotFacts:
    """Counts, chain head, key check and referenced blobs, as this connection's snapshot sees them."""
    def count(model) -> int:
        return conn.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    head = conn.execute(sa.select(AuditHead.last_seq, AuditHead.last_hash)).first()
    revision = None
    if sa.inspect(conn).has_table("alembic_version"):
        revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    facts = SnapshotFacts(
        counts={"documents": count(Document), "file_versions": count(FileVersion),
                "audit_events": count(AuditEvent), "users": count(User)},
        audit_head={"seq": head.last_seq if head else 0, "hash": head.last_hash if head else ""},
        key_check=conn.scalar(sa.select(Setting.value).where(Setting.key == KEY_CHECK)),
        schema_revision=revision,
    )
    for table, column, prefix in _blob_columns():
        key_id = table.c[f"{prefix}key_id"]
        # A disposal's crypto-shredding empties the key id and deletes the blob: nothing is left to back up.
        rows = conn.execute(sa.select(column, table.c[f"{prefix}cipher_sha256"], key_id, table.c[f"{prefix}wrapped_key"])
                            .where(column.is_not(None), key_id.is_not(None), key_id != ""))
        for blob_id, cipher_sha256, key_id, wrapped_key in rows:
            facts.blobs[blob_id] = BlobRef(blob_id, cipher_sha256, key_id, bytes(wrapped_key))
    facts.counts["blobs"] = len(facts.blobs)
    return facts


# --- taking the snapshot --------------------------------------------------------------------------------------

def take(directory: Path) -> tuple[str, SnapshotFacts]:
    """Dump the live database into directory; returns the dump's file name and what it holds."""
    if db.engine.dialect.name == "sqlite":
        return SQLITE_DUMP, _take_sqlite(directory / SQLITE_DUMP)
    return POSTGRES_DUMP, _take_postgres(directory / POSTGRES_DUMP)


def _take_sqlite(target: Path) -> SnapshotFacts:
    raw = db.engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(destination)  # all pages in one step: one consistent state
        finally:
            destination.close()
    finally:
        raw.close()
    _fsync(target)
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return read_facts(conn)
    finally:
        engine.dispose()


def _take_postgres(target: Path) -> SnapshotFacts:
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            snapshot_id = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            facts = read_facts(conn)
            _run_pg_tool(["pg_dump", "--format=custom", f"--snapshot={snapshot_id}", "--no-owner",
                          "--no-privileges", f"--file={target}"], db.engine.url)
    _fsync(target)
    return facts


# --- loading it back ------------------------------------------------------------------------------------------

def load(dump: Path, kind: str) -> None:
    """Replace the (empty) target database with the dump, all or nothing."""
    target_kind = db.engine.dialect.name
    if kind != target_kind:
        raise SnapshotError(f"The backup holds a {kind} database; this instance uses {target_kind}.")
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        _load_sqlite(dump, Path(url.database))
    else:
        # One transaction: a failure part-way leaves the target as it was.
        _run_pg_tool(["pg_restore", "--single-transaction", "--clean", "--if-exists", "--no-owner",
                      "--no-privileges", f"--dbname={url.database}", str(dump)], url)


def _load_sqlite(dump: Path, database: Path) -> None:
    """Copy beside the database, then rename over it: the database is either the old one or the whole copy."""
    database.parent.mkdir(parents=True, exist_ok=True)
    temp = database.with_name(f".{database.name}.restoring")
    shutil.copyfile(dump, temp)
    _fsync(temp)
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)  # the empty database's journal must not be replayed over the copy
    os.replace(temp, database)
    fsync_directory(database.parent)


def _run_pg_tool(argv: list[str], url: URL) -> None:
    program = shutil.which(argv[0])
    if program is None:
        raise SnapshotError(f"{argv[0]} is not installed (Debian: apt-get install postgresql-client).")
    env = {**os.environ, **_libpq_environment(url)}
    result = subprocess.run([program, *argv[1:]], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SnapshotError(f"{argv[0]} failed: {result.stderr.strip()[-2000:]}")


def _libpq_environment(url: URL) -> dict[str, str]:
    """The server and credentials for libpq's tools, so that no secret appears in a process list."""
    env = {"PGHOST": url.host or "", "PGPORT": str(url.port or ""), "PGUSER": url.username or "",
           "PGPASSWORD": url.password or "", "PGDATABASE": url.database or ""}
    if "sslmode" in url.query:
        env["PGSSLMODE"] = str(url.query["sslmode"])
    return {name: value for name, value in env.items() if value}


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())

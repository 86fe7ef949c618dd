"""Database behaviour that must hold on every connection."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine


@sa.event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # Take transactions into our hands (see _sqlite_begin) and enforce foreign keys.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@sa.event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    # BEGIN IMMEDIATE takes the write lock at the start: writers queue instead of failing mid-way
    # with SQLITE_BUSY, and the gap-free number sequences and the audit chain stay serial.
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def refresh_planner_statistics(connection: sa.Connection) -> None:
    """Let SQLite's planner know the tables' sizes and spreads (ANALYZE), as PostgreSQL's autovacuum does on its
    own. Without them SQLite reads the documents through their level index for a permission clause that
    nearly every row meets, instead of the (department, level) index: 3 to 5 times slower at 100,000 documents.
    The sample is bounded, so this takes milliseconds at any size."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        connection.exec_driver_sql("ANALYZE")

"""One commit per unit of work; side effects (blob writes, indexing) follow the commit's fate."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import sqlalchemy as sa

from ..extensions import db
from .errors import NotFound

Row = TypeVar("Row")

log = logging.getLogger(__name__)


class UnitOfWork:
    def __init__(self) -> None:
        self._after_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run once the transaction is committed (e.g. indexing, queueing tasks)."""
        self._after_commit.append(fn)

    def on_rollback(self, fn: Callable[[], None]) -> None:
        """Undo an effect outside the database (e.g. delete a blob written before a failed commit)."""
        self._on_rollback.append(fn)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    uow = UnitOfWork()
    try:
        yield uow
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for undo in reversed(uow._on_rollback):
            try:
                undo()
            except Exception:  # the orphan sweep will find what is left
                log.exception("undo after rollback failed")
        raise
    for fn in uow._after_commit:
        fn()


def locked(model: type[Row], row_id: int) -> Row:
    """The row locked for this transaction (SELECT … FOR UPDATE; SQLite's BEGIN IMMEDIATE locks the whole
    database), and everything read afterwards fresh from the database: objects loaded before the lock, by
    the page that called us, may be stale, so they are expired first. A missing row is a 404."""
    db.session.flush()
    db.session.expire_all()
    row = db.session.scalars(
        sa.select(model).where(model.id == row_id).with_for_update(of=model).execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("Not found.")
    return row

"""What a document's index entry contains, and keeping the index in step with the database.

The entry is built from the database and the decrypted text (textstore.pages_of); nothing readable is
stored in the index. Level-A documents are indexed by their metadata only unless INDEX_LEVEL_A_CONTENT is
set. Each entry carries a stamp (a hash of everything it was built from), so `archive verify` can tell a
stale entry from a current one without decrypting anything.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..core.enums import Level
from ..documents.models import Document
from ..extensions import db
from ..units.models import Building, Customer, Dossier, Occupancy, Unit
from . import textstore
from .index import Entry, WhooshBackend
from .models import ExtractedText

BATCH = 200  # documents loaded, decrypted and handed to the writer at a time: bounds the memory of a rebuild


def backend() -> WhooshBackend:
    """The index of this app: INDEX_DIR, else <STORAGE_DIR>/index."""
    path = Path(current_app.config["INDEX_DIR"] or Path(current_app.config["STORAGE_DIR"]) / "index")
    cache = current_app.extensions.setdefault("search_backends", {})
    if path not in cache:
        cache[path] = WhooshBackend(path)
    return cache[path]


def schedule_index(document_id: int) -> None:
    """Queue the document's (re)indexing; called after the commit that changed it."""
    from .index_tasks import index_document

    index_document(document_id)


def schedule_unit_index(unit_id: int) -> None:
    """Queue reindexing of a unit's documents: their entries carry the unit's owners and tenants."""
    from .index_tasks import index_unit

    index_unit(unit_id)


def schedule_rebuild() -> None:
    from .index_tasks import rebuild_index

    rebuild_index()


def content_indexed(level: Level) -> bool:
    """Level-A content stays out of the index unless INDEX_LEVEL_A_CONTENT is set."""
    return level is not Level.A or bool(current_app.config["INDEX_LEVEL_A_CONTENT"])


def _customers_by_unit(unit_ids: set[int]) -> dict[int, list[str]]:
    """Every owner and tenant the unit has had: a former owner's name still finds the old papers."""
    names: dict[int, list[str]] = defaultdict(list)
    if unit_ids:
        rows = db.session.execute(
            sa.select(Occupancy.unit_id, Customer.name).join(Customer, Customer.id == Occupancy.customer_id)
            .where(Occupancy.unit_id.in_(unit_ids)).order_by(Occupancy.unit_id, Customer.name)
        )
        for unit_id, name in rows:
            if name not in names[unit_id]:
                names[unit_id].append(name)
    return names


def _text_state(row: ExtractedText) -> str:
    """What the stamp needs to know about the text: its status and when it was last read."""
    status = row.status.value if hasattr(row.status, "value") else row.status
    return f"{status}:{row.finished_at.isoformat() if row.finished_at else ''}"


def _load(ids: list[int]) -> list[Document]:
    """The documents to index: a disposed document has no entry (its content is destroyed)."""
    return list(db.session.scalars(
        sa.select(Document).where(Document.id.in_(ids), Document.disposed_at.is_(None)).order_by(Document.id)
        .options(joinedload(Document.dossier).joinedload(Dossier.project),
                 joinedload(Document.dossier).joinedload(Dossier.unit).joinedload(Unit.building),
                 joinedload(Document.scope))
    ).unique())


def entries(documents: list[Document], *, with_content: bool = True) -> list[Entry]:
    """The index entries of a batch of documents, in a fixed number of queries (plus one decryption each)."""
    units = {d.dossier.unit_id for d in documents if d.dossier.unit_id}
    customers = _customers_by_unit(units)
    texts = textstore.current_texts([d.id for d in documents])
    readable = [d.id for d in documents if with_content and content_indexed(d.level)]
    pages_by_document = textstore.pages_of(readable, texts)
    built = []
    for doc in documents:
        dossier, unit = doc.dossier, doc.dossier.unit
        building: Building | None = unit.building if unit else None
        names = " ".join(customers.get(unit.id, [])) if unit else ""
        unit_text = f"{unit.full_name} {unit.code}" if unit else ""
        scope = tuple(sorted(
            f"d{s.department_id}" if s.department_id is not None else f"u{s.user_id}" for s in doc.scope
        ))
        metadata = [doc.title, doc.archive_number, doc.responsible_party, doc.doc_number, doc.remarks, names,
                    unit_text, dossier.project.name, dossier.project.code, dossier.title]
        include_text = content_indexed(doc.level)
        current = texts.get(doc.id)
        version_id = current.version_id if current else None
        text_state = _text_state(current.row) if current and current.row else ""
        stamp = hashlib.sha256(json.dumps(
            [metadata, doc.category.value, doc.level.value, doc.department_id, scope, doc.doc_date.isoformat(),
             building.id if building else None, version_id, text_state, include_text],
            ensure_ascii=False,
        ).encode()).hexdigest()[:32]
        pages = pages_by_document.get(doc.id)
        built.append(Entry(
            document_id=doc.id, stamp=stamp, content="\n".join([*(pages or []), *metadata]), title=doc.title,
            number=doc.archive_number, customers=names, unit=unit_text, category=doc.category.value,
            level=doc.level.value, project_id=dossier.project_id, building_id=building.id if building else None,
            department_id=doc.department_id, scope=scope, doc_date=doc.doc_date,
        ))
    return built


def index_now(document_id: int) -> None:
    """Bring one document's entry up to date (or remove it if the document is gone)."""
    documents = _load([document_id])
    target = backend()
    if documents:
        target.upsert(entries(documents))
    else:
        target.delete([document_id])
    if target.take_rebuild_request():  # the index was missing or damaged: it holds only this entry now
        schedule_rebuild()


def index_unit_now(unit_id: int) -> None:
    ids = list(db.session.scalars(
        sa.select(Document.id).join(Dossier, Document.dossier_id == Dossier.id).where(Dossier.unit_id == unit_id)))
    target = backend()
    for start in range(0, len(ids), BATCH):
        target.upsert(entries(_load(ids[start:start + BATCH])))


def _all_ids(batch: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(db.session.scalars(
            sa.select(Document.id).where(Document.id > last, Document.disposed_at.is_(None))
            .order_by(Document.id).limit(batch)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def iter_entries(batch: int = BATCH, *, with_content: bool = True) -> Iterator[Entry]:
    """Every document's entry, streamed batch by batch. Memory stays bounded: the session's identity map
    holds loaded rows weakly, so a batch is freed once its entries are written."""
    for ids in _all_ids(batch):
        yield from entries(_load(ids), with_content=with_content)


def document_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Document.disposed_at.is_(None))) or 0


def rebuild(progress: Callable[[int], None] = lambda n: None, procs: int = 1) -> int:
    """Rebuild the whole index from the database and the text store, in one commit: this process reads, `procs`
    writer processes (or this one) write the segments."""
    return backend().rebuild(iter_entries(), progress, procs)


def index_problems() -> tuple[list[int], list[int], list[int]]:
    """(missing, stale, orphaned) document ids: not in the index, indexed from an older state, or deleted."""
    indexed = backend().stamps()
    missing, stale = [], []
    for entry in iter_entries(with_content=False):
        stamp = indexed.pop(entry.document_id, None)
        if stamp is None:
            missing.append(entry.document_id)
        elif stamp != entry.stamp:
            stale.append(entry.document_id)
    return missing, stale, sorted(indexed)

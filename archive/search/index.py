"""The full-text index: a small backend interface and its Whoosh implementation.

The index holds no readable content: `content` is indexed but not stored, and the only stored values are
the document id and a stamp saying which state of the document the entry describes. Filter and sort fields
(category, level, project, building, department, scope, date) are ID/KEYWORD/columns, so filtering and
sorting happen inside the index. Permission is not decided here: the caller passes a `visible` function
(the policy's SQL clause) and only what it admits is counted, faceted, sorted or returned.

One writer at a time: Whoosh's write lock, acquired with retry. A missing or unreadable index is moved
aside and recreated empty; the caller then rebuilds it from the database and the text store.
"""
from __future__ import annotations

import logging
import pickle
import shutil
import struct
import threading
import zlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.writing import CLEAR

from ..core.enums import Category
from .analysis import pieces, property_analyzer

log = logging.getLogger(__name__)

WRITE_LOCK_TIMEOUT = 60.0  # seconds a writer waits for another to finish before giving up (the task retries)
WRITER_MEMORY_MB = 128  # per writer process: the pool spills sorted runs to disk beyond this
FACET_FIELDS = ("category", "project", "level")
LEVEL_CODES = ("C", "B", "A")
CATEGORY_CODES = tuple(c.value for c in Category)
# Per-document values read for every candidate: fixed-width number columns, cheap to open and to read.
COLUMNS = {"key": "document id", "cat": "category (its position in CATEGORY_CODES)",
           "lvl": "level (its position in LEVEL_CODES)", "proj": "project id", "day": "date as yyyymmdd"}
# What a damaged index raises when opened or read; anything else is a bug and is not hidden.
CORRUPTION = (whoosh_index.IndexError, EOFError, OSError, struct.error, zlib.error, pickle.UnpicklingError,
              ValueError, KeyError)


def schema() -> Schema:
    text = dict(analyzer=property_analyzer(), stored=False)
    columns = {name: COLUMN(NumericColumn("I")) for name in COLUMNS}
    return Schema(
        **columns,
        id=ID(stored=True, unique=True),
        stamp=STORED(),
        content=TEXT(phrase=True, **text),  # pages (unless level A) and all metadata words: the default field
        title=TEXT(phrase=False, **text),
        number=TEXT(phrase=False, **text),
        customer=TEXT(phrase=False, **text),
        unit=TEXT(phrase=False, **text),
        category=ID,
        level=ID,
        project=ID,
        building=ID,
        department=ID,
        scope=KEYWORD,  # "d<department id>" and "u<user id>" of the knowledge scope
        date=NUMERIC(int, bits=32, signed=False),  # yyyymmdd
    )


@dataclass(frozen=True)
class Entry:
    """What the index knows about one document."""

    document_id: int
    stamp: str
    content: str
    title: str
    number: str
    customers: str
    unit: str
    category: str
    level: str
    project_id: int
    building_id: int | None
    department_id: int
    scope: tuple[str, ...]
    doc_date: date


# --- The parsed query, independent of the backend -------------------------------------------------


@dataclass(frozen=True)
class Word:
    """A user's word, or a quoted phrase, in one field ("" = content)."""

    text: str
    phrase: bool = False
    field: str = ""


@dataclass(frozen=True)
class Clause:
    """Alternatives joined by OR; `negated` for NOT."""

    words: tuple[Word, ...]
    negated: bool = False


@dataclass
class Filters:
    category: str = ""
    level: str = ""
    project_id: int | None = None
    building_id: int | None = None
    department_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class Request:
    clauses: list[Clause]
    filters: Filters
    levels: list[str]  # the levels the reader's clearance covers: pre-filtered in the index
    sort: str = "relevance"  # or "date" (newest first)
    offset: int = 0
    limit: int = 20


@dataclass
class Found:
    total: int
    document_ids: list[int]  # the requested page, in order
    facets: dict[str, Counter] = field(default_factory=dict)


class SearchBackend(ABC):
    @abstractmethod
    def upsert(self, entries: Iterable[Entry]) -> int: ...

    @abstractmethod
    def delete(self, document_ids: Iterable[int]) -> None: ...

    @abstractmethod
    def rebuild(self, entries: Iterable[Entry], progress: Callable[[int], None] = lambda n: None,
                procs: int = 1) -> int: ...

    @abstractmethod
    def take_rebuild_request(self) -> bool: ...

    @abstractmethod
    def search(self, request: Request, visible: Callable[[list[int]], set[int]]) -> Found: ...

    @abstractmethod
    def stamps(self) -> dict[int, str]: ...


# --- Whoosh ---------------------------------------------------------------------------------------

_open_lock = threading.Lock()


def _as_int_date(value: date) -> int:
    return value.year * 10000 + value.month * 100 + value.day


def _fields(entry: Entry) -> dict:
    return dict(
        id=str(entry.document_id), stamp=entry.stamp, content=entry.content, title=entry.title,
        number=entry.number, customer=entry.customers, unit=entry.unit, category=entry.category,
        level=entry.level, project=str(entry.project_id),
        building=str(entry.building_id) if entry.building_id else "", department=str(entry.department_id),
        scope=" ".join(entry.scope), date=_as_int_date(entry.doc_date),
        key=entry.document_id, cat=CATEGORY_CODES.index(entry.category), lvl=LEVEL_CODES.index(entry.level),
        proj=entry.project_id, day=_as_int_date(entry.doc_date),
    )


class WhooshBackend(SearchBackend):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._rebuild_wanted = False  # set when a missing or damaged index was recreated empty

    # Opening, and recovering from a missing or damaged index.

    def open(self) -> whoosh_index.Index:
        with _open_lock:
            try:
                return whoosh_index.open_dir(str(self.path))
            except whoosh_index.EmptyIndexError:
                log.warning("search index missing at %s: creating it", self.path)
            except CORRUPTION:
                self._quarantine()
            self.path.mkdir(parents=True, exist_ok=True)
            self._rebuild_wanted = True
            return whoosh_index.create_in(str(self.path), schema())

    def _quarantine(self) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
        log.error("search index at %s is unreadable: moved to %s, to be rebuilt", self.path, aside)
        shutil.move(str(self.path), str(aside))

    def recover(self) -> None:
        """Called when reading failed midway: set the damaged index aside and start an empty one."""
        with _open_lock:
            if self.path.exists():
                self._quarantine()
            self.path.mkdir(parents=True)
            whoosh_index.create_in(str(self.path), schema())
            self._rebuild_wanted = True

    def _writer(self, ix, procs: int = 1):
        return ix.writer(timeout=WRITE_LOCK_TIMEOUT, delay=0.25, limitmb=WRITER_MEMORY_MB, procs=procs,
                         **({"multisegment": True} if procs > 1 else {}))

    # Writing.

    def upsert(self, entries: Iterable[Entry]) -> int:
        ix = self.open()
        writer = self._writer(ix)
        count = 0
        try:
            for entry in entries:
                writer.update_document(**_fields(entry))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def delete(self, document_ids: Iterable[int]) -> None:
        ix = self.open()
        writer = self._writer(ix)
        try:
            for document_id in document_ids:
                writer.delete_by_term("id", str(document_id))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def take_rebuild_request(self) -> bool:
        """True once after the index had to be recreated empty: the caller schedules the rebuild."""
        wanted, self._rebuild_wanted = self._rebuild_wanted, False
        return wanted

    def rebuild(self, entries: Iterable[Entry], progress: Callable[[int], None] = lambda n: None,
                procs: int = 1) -> int:
        """Replace the whole index by `entries` in one commit: searchers see the old index until then."""
        ix = self.open()
        self._rebuild_wanted = False
        writer = self._writer(ix, procs)
        count = 0
        try:
            for entry in entries:
                writer.add_document(**_fields(entry))
                count += 1
                progress(1)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR)
        return count

    # Reading.

    def stamps(self) -> dict[int, str]:
        with self.open().searcher() as searcher:
            return {int(fields["id"]): fields.get("stamp", "") for fields in searcher.all_stored_fields()}

    def search(self, request: Request, visible: Callable[[list[int]], set[int]]) -> Found:
        try:
            return self._search(request, visible)
        except CORRUPTION:
            log.exception("search index failed while reading")
            self.recover()
            return Found(0, [])

    def _search(self, request: Request, visible: Callable[[list[int]], set[int]]) -> Found:
        text_query = _to_whoosh(request.clauses)
        filters = _filter_query(request.filters)
        query = wq.And([q for q in (text_query, filters) if q is not None]) if filters else text_query
        with self.open().searcher() as searcher:
            reader = searcher.reader()
            if reader.doc_count() == 0:  # an empty index has no columns to read
                return Found(0, [], {name: Counter() for name in FACET_FIELDS})
            ids, levels = reader.column_reader("key"), reader.column_reader("lvl")
            matched = query.docs(searcher) if query is not None else reader.all_doc_ids()
            # Clearance is part of every read rule, so it may safely narrow the candidates here.
            covered = {LEVEL_CODES.index(lvl) for lvl in request.levels}
            candidates = {n: ids[n] for n in matched if levels[n] in covered}
            # Permission first: nothing below sees a document the policy does not admit.
            admitted = visible(list(candidates.values())) if candidates else set()
            docnums = [n for n, document_id in candidates.items() if document_id in admitted]
            categories, projects = reader.column_reader("cat"), reader.column_reader("proj")
            facets = {
                "category": Counter(CATEGORY_CODES[categories[n]] for n in docnums),
                "project": Counter(str(projects[n]) for n in docnums),
                "level": Counter(LEVEL_CODES[levels[n]] for n in docnums),
            }
            end = request.offset + request.limit
            if request.sort == "date" or text_query is None:
                days = reader.column_reader("day")
                ordered = sorted(docnums, key=lambda n: (days[n], ids[n]), reverse=True)[request.offset:end]
            elif docnums:
                results = searcher.search(text_query, filter=set(docnums), limit=end, terms=False)
                ordered = [hit.docnum for hit in results[request.offset:end]]
            else:
                ordered = []
            return Found(len(docnums), [ids[n] for n in ordered], facets)


def _filter_query(f: Filters) -> wq.Query | None:
    """The form's filters, answered by the index's ID and numeric fields."""
    parts: list[wq.Query] = []
    for name, value in (("category", f.category), ("level", f.level), ("project", f.project_id),
                        ("building", f.building_id), ("department", f.department_id)):
        if value:
            parts.append(wq.Term(name, str(value)))
    if f.date_from or f.date_to:
        parts.append(wq.NumericRange("date", _as_int_date(f.date_from) if f.date_from else None,
                                     _as_int_date(f.date_to) if f.date_to else None))
    return wq.And(parts) if parts else None


FIELDS = {"": "content", "title": "title", "number": "number", "customer": "customer", "unit": "unit"}


def _word_query(word: Word) -> wq.Query | None:
    fieldname = FIELDS[word.field]
    if word.phrase:
        # Phrase mode numbers the terms consecutively, as the index does for the same text.
        terms = [p.text for p in pieces(word.text, "phrase")]
        if len(terms) > 1 and fieldname == "content":
            return wq.Phrase(fieldname, terms)
        parts = [wq.Term(fieldname, t) for t in terms]
    else:
        parts = []
        for piece in pieces(word.text, "query"):
            if piece.single_cjk:
                # A lone character: a bigram starting with it, or a run ending with it (indexed alone).
                parts.append(wq.Or([wq.Term(fieldname, piece.text), wq.Prefix(fieldname, piece.text)]))
            else:
                parts.append(wq.Term(fieldname, piece.text))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _to_whoosh(clauses: list[Clause]) -> wq.Query | None:
    """AND of clauses; each clause an OR of words; a word the AND of its terms (no phrase unless quoted)."""
    positive, negative = [], []
    for clause in clauses:
        alternatives = [q for q in (_word_query(w) for w in clause.words) if q is not None]
        if not alternatives:
            continue
        query = alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)
        (negative if clause.negated else positive).append(query)
    if not positive:
        return None if not negative else wq.AndNot(wq.Every(), wq.Or(negative))
    query = positive[0] if len(positive) == 1 else wq.And(positive)
    return wq.AndNot(query, wq.Or(negative)) if negative else query


def iter_batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

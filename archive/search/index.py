"""The full-text index: a small backend interface and its Whoosh implementation.

The index holds no readable content: `content` is indexed but not stored, and the only stored values are
the document id and a stamp saying which state of the document the entry describes. Filter and sort fields
(category, level, project, building, department, scope, date) are ID/KEYWORD/columns, so filtering and
sorting happen inside the index; a search reads them, and the posting lists, in bulk (matching.py), and
a rebuild writes whole segments from memory (segments.py). Permission is not decided here: the caller
passes an Admission (the policy's SQL clause) and only what it admits is counted, faceted, sorted or
returned.

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
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.util.filelock import try_for

from ..core.enums import Category
from . import matching, segments
from .analysis import index_terms, pieces, property_analyzer
from .bulk_postings import BulkCodec

log = logging.getLogger(__name__)

WRITE_LOCK_TIMEOUT = 60.0  # seconds a writer waits for another to finish before giving up (the task retries)
WRITER_MEMORY_MB = 192  # per writer process: Whoosh's pool spills sorted runs beyond this; a rebuild closes a segment
REBUILD_BATCH = 200  # entries handed to a writer process at a time
LEVEL_CODES = ("C", "B", "A")
CATEGORY_CODES = tuple(c.value for c in Category)
# Each facet: the column its codes are counted from, and the code's label.
FACETS = {"category": ("cat", CATEGORY_CODES.__getitem__), "project": ("proj", str),
          "level": ("lvl", LEVEL_CODES.__getitem__)}
# Per-document values read for every candidate: fixed-width number columns, cheap to open and to read.
COLUMNS = {"key": "document id", "cat": "category (its position in CATEGORY_CODES)",
           "lvl": "level (its position in LEVEL_CODES)", "proj": "project id", "day": "date as yyyymmdd"}
# What a damaged index raises when opened or read; anything else is a bug and is not hidden.
CORRUPTION = (whoosh_index.IndexError, EOFError, OSError, struct.error, zlib.error, pickle.UnpicklingError,
              ValueError, KeyError)


class CJKText(TEXT):
    """A TEXT field whose terms come from analysis.index_terms in one pass: the same terms, positions and
    values as Whoosh makes with the analyser, without a Token object per term (tests/search/test_segments.py)."""

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """Each term of the value with its positions (what `index` encodes), for writers that keep positions
        as numbers until they write them."""
        return index_terms(value)

    def index(self, value, **kwargs):
        fmt = self.format
        boost = fmt.field_boost
        if isinstance(fmt, Positions):
            return [(term.encode(), len(places), len(places) * boost, segments.positions_value(places))
                    for term, places in index_terms(value).items()]
        return [(term.encode(), len(places), len(places) * boost, segments.frequency_value(len(places)))
                for term, places in index_terms(value).items()]


def schema() -> Schema:
    text = dict(analyzer=property_analyzer(), stored=False)
    columns = {name: COLUMN(NumericColumn("I")) for name in COLUMNS}
    return Schema(
        **columns,
        id=ID(stored=True, unique=True),
        stamp=STORED(),
        # Pages (unless level A) and all metadata words: the default field. Without positions, so a search
        # reads its posting lists fast; `phrases` holds the same words with positions, for quoted phrases.
        content=CJKText(phrase=False, **text),
        phrases=CJKText(phrase=True, **text),
        title=CJKText(phrase=False, **text),
        number=CJKText(phrase=False, **text),
        customer=CJKText(phrase=False, **text),
        unit=CJKText(phrase=False, **text),
        category=ID,
        level=ID,
        project=ID,
        building=ID,
        department=ID,
        scope=KEYWORD,  # "d<department id>" and "u<user id>" of the knowledge scope
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


class Admission(ABC):
    """The caller's answer to "which of these candidates may be shown?" (the permission policy)."""

    def expect(self, estimate: int, indexed: int) -> None:
        """Told, before the index looks, about how many candidates to expect among how many indexed documents:
        a large answer can be prepared at the same time."""

    @abstractmethod
    def __call__(self, candidate_ids: Sequence[int]) -> Collection[int] | np.ndarray:
        """The candidates that may be shown (a collection or an array of ids; others in it are ignored)."""


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
    def search(self, request: Request, admit: Admission) -> Found: ...

    @abstractmethod
    def stamps(self) -> dict[int, str]: ...


# --- Whoosh ---------------------------------------------------------------------------------------

_open_lock = threading.Lock()


def _as_int_date(value: date) -> int:
    return value.year * 10000 + value.month * 100 + value.day


def _fields(entry: Entry) -> dict:
    return dict(
        id=str(entry.document_id), stamp=entry.stamp, content=entry.content, phrases=entry.content,
        title=entry.title, number=entry.number, customer=entry.customers, unit=entry.unit, category=entry.category,
        level=entry.level, project=str(entry.project_id),
        building=str(entry.building_id) if entry.building_id else "", department=str(entry.department_id),
        scope=" ".join(entry.scope),
        key=entry.document_id, cat=CATEGORY_CODES.index(entry.category), lvl=LEVEL_CODES.index(entry.level),
        proj=entry.project_id, day=_as_int_date(entry.doc_date),
    )


class WhooshBackend(SearchBackend):
    def __init__(self, path: Path, memory_mb: int = WRITER_MEMORY_MB) -> None:
        self.path = Path(path)
        self.memory_mb = memory_mb  # per writer process
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

    def _writer(self, ix):
        # Separate files, not one compound file: a reader opens a compound file's parts as in-memory copies
        # (whoosh.filedb.compound.BufferFile), so every search would copy the whole postings file.
        return ix.writer(timeout=WRITE_LOCK_TIMEOUT, delay=0.25, limitmb=self.memory_mb, compound=False,
                         codec=BulkCodec())

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
        """Replace the whole index by `entries` in one commit: searchers see the old index until then.

        The new segments are written from memory (segments.py), by `procs` processes, under the write lock;
        the table of contents that names them replaces the old one in one step.
        """
        ix = self.open()
        self._rebuild_wanted = False
        lock = ix.lock("WRITELOCK")
        if not try_for(lock.acquire, timeout=WRITE_LOCK_TIMEOUT, delay=0.25):
            raise whoosh_index.LockError("the search index is locked by another writer")
        count = 0

        def batches():
            nonlocal count
            for batch in iter_batches(entries, REBUILD_BATCH):
                count += len(batch)
                yield [_fields(entry) for entry in batch]

        try:
            written = segments.build(ix.storage, ix.indexname, schema(), batches(), procs=procs,
                                     limit_mb=self.memory_mb, progress=progress, mirrors={"content": "phrases"})
            generation = ix.latest_generation() + 1
            whoosh_index.TOC(schema(), written, generation).write(ix.storage, ix.indexname)
            whoosh_index.clean_files(ix.storage, ix.indexname, generation, written)
        except BaseException:
            # Files of segments no table of contents names: removed, the index stays as it was.
            current = ix._read_toc()
            whoosh_index.clean_files(ix.storage, ix.indexname, current.generation, current.segments)
            raise
        finally:
            ix.storage.temp_storage(f"{ix.indexname}.tmp").destroy()
            lock.release()
        return count

    # Reading.

    def stamps(self) -> dict[int, str]:
        with self.open().searcher() as searcher:
            return {int(fields["id"]): fields.get("stamp", "") for fields in searcher.all_stored_fields()}

    def search(self, request: Request, admit: Admission) -> Found:
        try:
            return self._search(request, admit)
        except CORRUPTION:
            log.exception("search index failed while reading")
            self.recover()
            return Found(0, [])

    def _search(self, request: Request, admit: Admission) -> Found:
        text_query = _to_whoosh(request.clauses)
        uncovered = [level for level in LEVEL_CODES if level not in request.levels]
        with self.open().searcher() as searcher, ExitStack() as opened:
            if searcher.doc_count_all() == 0:  # an empty index has no columns to read
                return Found(0, [], {name: Counter() for name in FACETS})
            segments = [opened.enter_context(matching.Segment(leaf, offset))
                        for leaf, offset in searcher.leaf_searchers()]
            admit.expect(matching.estimate(text_query, segments) if text_query is not None
                         else searcher.doc_count(), searcher.doc_count())
            candidates = []
            for segment in segments:
                found = matching.docs(text_query, segment) if text_query is not None else segment.live.copy()
                _filter(found, request.filters, segment)
                # Clearance is part of every read rule, so it may safely narrow the candidates here.
                for level in uncovered:
                    found &= ~segment.term_docs("level", level)
                candidates.append(np.flatnonzero(found))
            ids = np.concatenate([s.column("key")[found] for s, found in zip(segments, candidates)])
            # The order's values (a score, or the date) while the policy's answer is on its way; only those of
            # admitted documents are compared below.
            by_date = request.sort == "date" or text_query is None
            if by_date:  # newest first, then the higher document id
                values = np.concatenate([s.column("day")[found] for s, found in zip(segments, candidates)])
            else:  # best score first, then the lower document id (as Whoosh orders ties)
                values = np.concatenate([scores[found] for scores, found in
                                         zip(matching.scores(text_query, segments), candidates)])
            facet_codes = {name: np.concatenate([s.column(column)[found] for s, found in zip(segments, candidates)])
                           for name, (column, _label) in FACETS.items()}
            # Permission first: nothing below sees a document the policy does not admit.
            allowed = admit(ids) if len(ids) else ()
            admitted = np.flatnonzero(_members(ids, allowed))  # positions: taking by them beats a mask, per array
            ids, values = ids[admitted], values[admitted]
            facets = {}
            for name, codes in facet_codes.items():
                counts = np.bincount(codes[admitted])  # codes are small: positions in a list, or project ids
                label = FACETS[name][1]
                facets[name] = Counter({label(int(code)): int(counts[code]) for code in np.flatnonzero(counts)})
            end = request.offset + request.limit
            best = _best(end, values, ids, lower_id_first=not by_date)
            return Found(len(ids), best[request.offset:end], facets)


def _members(ids: np.ndarray, allowed: Collection[int] | np.ndarray) -> np.ndarray:
    """Which of the ids are among the allowed ones, as a boolean array (a lookup table over the ids: no sort)."""
    if not len(allowed) or not len(ids):
        return np.zeros(len(ids), dtype=bool)
    if not isinstance(allowed, np.ndarray):
        allowed = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
    allowed = allowed[allowed <= ids.max()]
    table = np.zeros(int(ids.max()) + 1, dtype=bool)
    table[allowed] = True
    return table[ids]


def _best(end: int, values: np.ndarray, ids: np.ndarray, *, lower_id_first: bool) -> list[int]:
    """The ids of the `end` highest values, highest first, ties broken by the id."""
    if len(values) > end:
        threshold = np.partition(values, len(values) - end)[len(values) - end]
        chosen = values >= threshold
        values, ids = values[chosen], ids[chosen]
    order = np.lexsort((ids if lower_id_first else -ids, -values))[:end]
    return ids[order].tolist()


def _filter(found: np.ndarray, f: Filters, segment: matching.Segment) -> None:
    """Narrow the candidates by the form's filters, answered by the index's ID fields and the date column."""
    for name, value in (("category", f.category), ("level", f.level), ("project", f.project_id),
                        ("building", f.building_id), ("department", f.department_id)):
        if value:
            found &= segment.term_docs(name, str(value))
    if f.date_from or f.date_to:
        days = segment.column("day")
        if f.date_from:
            found &= days >= _as_int_date(f.date_from)
        if f.date_to:
            found &= days <= _as_int_date(f.date_to)


FIELDS = {"": "content", "title": "title", "number": "number", "customer": "customer", "unit": "unit"}


def _word_query(word: Word) -> wq.Query | None:
    fieldname = FIELDS[word.field]
    if word.phrase:
        # Phrase mode numbers the terms consecutively, as the index does for the same text.
        terms = [p.text for p in pieces(word.text, "phrase")]
        if len(terms) > 1 and fieldname == "content":
            return wq.Phrase("phrases", terms)
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

"""Full-text search, permission first: the index proposes, the one policy's SQL clause disposes.

Candidates from the index are reduced to the ids `policy.where(identity, "read", Document)` admits before
anything is counted, faceted, sorted, paged, highlighted or suggested, so no number on the page can tell a
reader that a document they may not read exists.
"""
from __future__ import annotations

import math
import re
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor, wait
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload

from ..audit import services as audit
from ..auth.models import Department, User
from ..core.enums import CATEGORY_LABELS, LEVEL_LABELS, Category, Level
from ..core.errors import ValidationError
from ..core.permissions import policy
from ..core.uow import unit_of_work
from ..documents.models import Document
from ..extensions import db
from ..units.models import Building, Customer, Dossier, Occupancy, Project, Unit
from . import indexing, textstore
from .analysis import pieces
from .index import Admission, Clause, Filters, Request, Word

PER_PAGE = 20
MAX_QUERY_LENGTH = 500
ID_BATCH = 1000  # ids per permission query
# More candidates than this share of the indexed documents: one pass over the table beats asking by id. At
# 100,000 documents the pass took 11 ms for a reader of half of them, ids took 3 ms per 1,000 candidates.
WHOLE_TABLE_SHARE = 0.02
SNIPPET_CHARS = 160
SUGGESTIONS = 8

_TOKEN = re.compile(r'(-)?(?:(\w+):)?(?:"([^"]*)"?|“([^”]*)”?|(\S+))')
FIELD_PREFIXES = {"title": "title", "number": "number", "customer": "customer", "unit": "unit"}


@dataclass
class SearchQuery:
    text: str = ""
    # The advanced form's metadata: each found as part of the stored value (an archive number's prefix, a
    # title's words as written, a customer's name, a unit such as 3栋2单元1502).
    archive_number: str = ""
    title: str = ""
    customer: str = ""
    unit: str = ""
    category: Category | None = None
    level: Level | None = None
    project_id: int | None = None
    building_id: int | None = None
    department_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"  # or "date"

    def metadata_conditions(self) -> list:
        """The metadata criteria as SQL conditions on Document, asked together with the policy's clause."""
        conditions = []
        if self.archive_number.strip():
            conditions.append(Document.archive_number.contains(self.archive_number.strip(), autoescape=True))
        if self.title.strip():
            conditions.append(Document.title.contains(self.title.strip(), autoescape=True))
        if self.unit.strip():
            conditions.append(Document.dossier_id.in_(
                sa.select(Dossier.id).join(Unit, Dossier.unit_id == Unit.id)
                .join(Building, Unit.building_id == Building.id)
                .where((Building.name + Unit.name).contains(self.unit.strip(), autoescape=True))))
        if self.customer.strip():
            conditions.append(Document.dossier_id.in_(
                sa.select(Dossier.id).join(Occupancy, Occupancy.unit_id == Dossier.unit_id)
                .join(Customer, Customer.id == Occupancy.customer_id)
                .where(Customer.name.contains(self.customer.strip(), autoescape=True))))
        return conditions


@dataclass(frozen=True)
class Facet:
    value: str
    label: Any  # a name, or a lazily translated label
    count: int


@dataclass
class Hit:
    document: Document
    snippet: Markup


@dataclass
class SearchPage:
    query: SearchQuery
    total: int
    hits: list[Hit]
    page: int
    per_page: int
    facets: dict[str, list[Facet]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def parse(text: str) -> list[Clause]:
    """Words are ANDed; `a OR b` are alternatives; NOT a / -a excludes; "…" is a phrase; title:… etc. a field."""
    clauses: list[Clause] = []
    join_next = negate_next = False
    for match in _TOKEN.finditer(text):
        minus, prefix, quoted, quoted_cn, bare = match.groups()
        phrase = quoted is not None or quoted_cn is not None
        value = quoted if quoted is not None else quoted_cn if quoted_cn is not None else bare
        if not phrase and not prefix and not minus and value in ("AND", "OR", "NOT"):
            join_next = value == "OR" and bool(clauses)
            negate_next = value == "NOT"
            continue
        field_name = FIELD_PREFIXES.get((prefix or "").lower(), "")
        if prefix and not field_name:  # not a field we know: the colon is part of the word
            value = f"{prefix}:{value}"
        if not value or not any(True for _ in pieces(value, "query")):
            continue
        word = Word(value, phrase=phrase, field=field_name)
        negated = bool(minus) or negate_next
        if join_next and not negated and not clauses[-1].negated:
            clauses[-1] = Clause((*clauses[-1].words, word))
        else:
            clauses.append(Clause((word,), negated=negated))
        join_next = negate_next = False
    return clauses


class _Admission(Admission):
    """The policy's answer for the candidates of one search: the subset the identity may read (and that meets
    the metadata conditions). Up to WHOLE_TABLE_SHARE of the indexed documents are asked about by id,
    ID_BATCH to a query; beyond that, every admitted id is read in one pass over the table. That pass starts,
    on the session's connection in another thread, as soon as the index expects that many candidates, so the
    database works while the index does: the answer is one aggregated row, so the driver runs it without
    holding Python's lock. Nothing else uses the connection until `wait` has returned."""

    def __init__(self, identity, readable, conditions: list) -> None:
        """`readable`: the policy's clause for what the identity may read; `conditions`: the form's criteria."""
        self.identity, self.conditions = identity, conditions
        self.clause = sa.and_(readable, *conditions)
        self._everything: Future[np.ndarray] | None = None
        self._indexed: int | None = None  # documents in the index, once it has said

    def _one_pass_pays(self, candidates: int) -> bool:
        return self._indexed is not None and candidates > self._indexed * WHOLE_TABLE_SHARE

    def expect(self, estimate: int, indexed: int) -> None:
        self._indexed = indexed
        if self._one_pass_pays(estimate) and self._everything is None:
            connection = db.session.connection()
            self._everything = _admission_threads.submit(_every_admitted_id, connection,
                                                         self._every_admitted_statement(connection.dialect.name))

    def _every_admitted_statement(self, dialect: str):
        """Every admitted id, as one row of ids joined by commas, which numpy parses in C: a tenth of the time
        of building 50,000 Python integers from a list or a JSON array. Each of the policy's reasons to
        admit is read from its own index (UNION ALL: an id may come twice), instead of one OR that the
        database merges row by row (at 100,000 documents, 6 ms against 9 ms on SQLite)."""
        reasons = [sa.select(Document.id.label("id")).where(reason, *self.conditions)
                   for reason in policy.alternatives(self.identity, "read", Document)]
        if not reasons:
            return sa.select(sa.null())
        admitted = (reasons[0] if len(reasons) == 1 else sa.union_all(*reasons)).subquery()
        # SQLite's default separator is a comma; one given as a parameter is read again for every row.
        return sa.select(sa.func.string_agg(sa.cast(admitted.c.id, sa.Text), ",") if dialect == "postgresql"
                         else sa.func.group_concat(admitted.c.id))

    def __call__(self, candidate_ids: Sequence[int]) -> Collection[int] | np.ndarray:
        if self._one_pass_pays(len(candidate_ids)):
            self.expect(len(candidate_ids), self._indexed)
        if self._everything is not None:
            return self._everything.result()  # every admitted id: the backend keeps its candidates
        found: set[int] = set()
        for start in range(0, len(candidate_ids), ID_BATCH):
            batch = [int(i) for i in candidate_ids[start:start + ID_BATCH]]
            statement = sa.select(Document.id).where(Document.id.in_(batch), self.clause)
            result = db.session.connection().execute(statement)
            try:  # the driver's rows as they are: one integer column needs no per-row processing
                found.update(row[0] for row in result.cursor.fetchall())
            finally:
                result.close()
        return found

    def wait(self) -> None:
        """Until the pass over the table is over (however the search ended): the connection is free again."""
        if self._everything is not None:
            wait([self._everything])


_admission_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-admission")


def _every_admitted_id(connection: sa.Connection, statement) -> np.ndarray:
    ids = connection.execute(statement).scalar()
    return np.fromstring(ids, dtype=np.int64, sep=",") if ids else np.zeros(0, dtype=np.int64)


def _marked_words(clauses: list[Clause]) -> list[str]:
    words = [unicodedata.normalize("NFKC", w.text).lower() for c in clauses if not c.negated for w in c.words]
    # Also the pieces of each word, for text where the word itself is split (e.g. "3栋2单元 1502").
    words += [p.text for c in clauses if not c.negated for w in c.words for p in pieces(w.text, "phrase")
              if len(p.text) > 1]
    return sorted(set(words), key=len, reverse=True)


def snippet(pages: list[str] | None, words: list[str]) -> Markup:
    """A short passage of the page where a query word first occurs, the words marked. Made now, stored nowhere."""
    if not pages:
        return Markup("")
    pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None
    for page_text in pages:
        text = " ".join(unicodedata.normalize("NFKC", page_text).split())
        found = pattern.search(text.lower()) if pattern else None
        if found:
            start = max(0, found.start() - SNIPPET_CHARS // 3)
            return _mark(text[start:start + SNIPPET_CHARS], pattern, start > 0,
                         start + SNIPPET_CHARS < len(text))
    text = " ".join(unicodedata.normalize("NFKC", pages[0]).split())
    return _mark(text[:SNIPPET_CHARS], None, False, len(text) > SNIPPET_CHARS)


def _mark(passage: str, pattern: re.Pattern | None, cut_before: bool, cut_after: bool) -> Markup:
    out, last = [], 0
    for found in (pattern.finditer(passage.lower()) if pattern else ()):
        out.append(escape(passage[last:found.start()]))
        out.append(Markup("<mark>%s</mark>") % passage[found.start():found.end()])
        last = found.end()
    out.append(escape(passage[last:]))
    return Markup("…" if cut_before else "") + Markup("").join(out) + Markup("…" if cut_after else "")


def _facets(found_facets) -> dict[str, list[Facet]]:
    # Labels stay lazy: translated when a page shows them, never needed by the shell.
    categories = [Facet(v, CATEGORY_LABELS[Category(v)], n) for v, n in found_facets["category"].items()]
    levels = [Facet(v, LEVEL_LABELS[Level(v)], n) for v, n in found_facets["level"].items()]
    project_ids = [int(v) for v in found_facets["project"]]
    names = dict(db.session.execute(sa.select(Project.id, Project.name).where(Project.id.in_(project_ids))).all())
    projects = [Facet(v, names.get(int(v), v), n) for v, n in found_facets["project"].items()]
    return {name: sorted(facets, key=lambda f: (-f.count, f.value))
            for name, facets in (("category", categories), ("project", projects), ("level", levels))}


def search(identity, query: SearchQuery, page: int = 1, per_page: int = PER_PAGE) -> SearchPage:
    """One page of full-text results the identity may read, with counts and facets over those alone."""
    policy.require(identity, "browse_dossiers")
    if len(query.text) > MAX_QUERY_LENGTH:
        raise ValidationError("The search text is too long.")
    clauses = parse(query.text)
    page = max(1, page)
    if query.text.strip() and not clauses:  # only characters that are not searched (punctuation)
        return SearchPage(query, 0, [], page, per_page)
    # No words and no criteria: everything the reader may read, newest first.
    backend = indexing.backend()
    request = Request(
        clauses=clauses,
        filters=Filters(
            category=query.category.value if query.category else "", level=query.level.value if query.level else "",
            project_id=query.project_id, building_id=query.building_id, department_id=query.department_id,
            date_from=query.date_from, date_to=query.date_to,
        ),
        levels=[lvl.value for lvl in identity.clearance.covered()],
        sort="date" if query.sort == "date" else "relevance",
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    readable = policy.where(identity, "read", Document)  # built once: asked by the admission and the page
    admission = _Admission(identity, readable, query.metadata_conditions())
    try:
        found = backend.search(request, admission)
    finally:
        admission.wait()
    if backend.take_rebuild_request():
        indexing.schedule_rebuild()
    # Recorded before the page is loaded: the commit would expire what the page shows.
    with unit_of_work():
        audit.record("search.fulltext", actor=identity, query=query.text, results=found.total, page=page,
                     **{k: _plain(v) for k, v in vars(query).items() if v and k != "text"})
    # Loaded again under the policy: a document changed since the index answered is still checked.
    documents = {d.id: d for d in db.session.scalars(
        sa.select(Document).where(Document.id.in_(found.document_ids), readable)
        .options(joinedload(Document.dossier).joinedload(Dossier.unit)))}
    words = _marked_words(clauses)
    shown = [documents[i] for i in found.document_ids if i in documents]
    pages = textstore.pages_of([doc.id for doc in shown if indexing.content_indexed(doc.level)])
    hits = [Hit(doc, snippet(pages.get(doc.id), words)) for doc in shown]
    return SearchPage(query, found.total, hits, page, per_page, _facets(found.facets))


def _plain(value):
    return value.value if hasattr(value, "value") else value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "title", "number" or "customer"
    document_id: int | None = None


def autocomplete(identity, prefix: str) -> list[Suggestion]:
    """Titles, archive numbers and customer names starting with (titles: containing) `prefix`, drawn only
    from documents the identity may read, so a suggestion never names an invisible document or its customer."""
    policy.require(identity, "browse_dossiers")
    prefix = prefix.strip()[:100]
    if not prefix:
        return []
    # Disposed documents are no longer in the index: suggesting them would lead to an empty search.
    readable = sa.and_(policy.where(identity, "read", Document), Document.disposed_at.is_(None))
    numbers = db.session.execute(
        sa.select(Document.archive_number, Document.id)
        .where(readable, Document.archive_number.startswith(prefix.upper(), autoescape=True))
        .order_by(Document.archive_number).limit(SUGGESTIONS)
    ).all()
    titles = db.session.execute(
        sa.select(Document.title, sa.func.min(Document.id))
        .where(readable, Document.title.contains(prefix, autoescape=True))
        .group_by(Document.title).order_by(Document.title).limit(SUGGESTIONS)
    ).all()
    readable_dossiers = sa.select(Document.dossier_id).where(readable)
    names = db.session.scalars(
        sa.select(Customer.name).distinct()
        .join(Occupancy, Occupancy.customer_id == Customer.id)
        .join(Dossier, Dossier.unit_id == Occupancy.unit_id)
        .where(Customer.name.startswith(prefix, autoescape=True), Dossier.id.in_(readable_dossiers))
        .order_by(Customer.name).limit(SUGGESTIONS)
    ).all()
    suggestions = [Suggestion(n, "number", i) for n, i in numbers]
    suggestions += [Suggestion(t, "title", i) for t, i in titles]
    suggestions += [Suggestion(n, "customer") for n in names]
    return suggestions[:SUGGESTIONS * 2]


@dataclass(frozen=True)
class FilterChoices:
    projects: list[tuple[int, str]]
    buildings: list[tuple[int, str]]
    departments: list[tuple[int, str]]
    levels: list[Level]


def filter_choices(identity) -> FilterChoices:
    """What the advanced form offers: the register (seen by everyone who works with dossiers), and levels
    up to the reader's clearance."""
    policy.require(identity, "browse_dossiers")
    projects = db.session.execute(sa.select(Project.id, Project.name).order_by(Project.name)).all()
    buildings = db.session.execute(
        sa.select(Building.id, Project.name + " " + Building.name).join(Project, Project.id == Building.project_id)
        .order_by(Project.name, Building.code)
    ).all()
    departments = db.session.execute(sa.select(Department.id, Department.name).order_by(Department.id)).all()
    return FilterChoices([tuple(r) for r in projects], [tuple(r) for r in buildings],
                         [tuple(r) for r in departments], identity.clearance.covered())


def user_named(username: str) -> User | None:
    """The account a shell command acts as (None if there is none: the policy then allows nothing)."""
    return db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))

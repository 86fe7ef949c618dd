"""Answering a query from a Whoosh index in bulk, with NumPy.

Whoosh's matchers step through the postings one call per document, and its collectors score every match:
fine for a few hundred hits, too slow for the tens of thousands a common word has in a large archive.
Here the same query tree (whoosh.query objects, built by index.py) is answered a segment at a time: each
posting list is taken as arrays from the segment's bulk postings (bulk_postings.py) when it is long, else
read in one piece and decoded a block at a time; a term becomes a boolean array over the segment's
documents, AND/OR/NOT are array operations, per-document values (document id, level, category, project,
date, field lengths) are whole columns, and scores are Whoosh's BM25F, computed for a whole posting list
at once. Phrases, the only queries that need positions, are checked by Whoosh's own matcher.
tests/search/test_segments.py compares the answers and the scores with Whoosh's.
"""
from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterable
from io import BytesIO
from math import log

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, _lenfield
from whoosh.columns import NumericColumn
from whoosh.reading import TermNotFound
from whoosh.system import unpack_int
from whoosh.util.numeric import byte_to_length

from .bulk_postings import BulkPostings

B, K1 = 0.75, 1.2  # Whoosh's BM25F defaults
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class Postings:
    """A term's postings in one segment: document numbers (deleted ones included) and weights."""

    __slots__ = ("ids", "weights")

    def __init__(self, ids: np.ndarray, weights: np.ndarray) -> None:
        self.ids, self.weights = ids, weights


NO_POSTINGS = Postings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def read_postings(reader, fieldname: str, tbytes: bytes, bulk: BulkPostings | None = None) -> Postings:
    """The whole posting list of a term: as arrays from the segment's bulk postings when they keep it, else
    read from Whoosh's postings in one piece and decoded a block at a time (Whoosh's matcher seeks and
    decodes it one posting per call). The layout is Whoosh 3's (whoosh/codec/whoosh3.py): a magic header,
    then blocks of [signed length][pickled block info][zlib-compressed pickle of (id deltas, weights,
    values)], the last block's length negative."""
    terms = reader._terms
    try:
        info = terms.term_info(fieldname, tbytes)
    except TermNotFound:
        return NO_POSTINGS
    if info.is_inlined():
        ids, weights, _values = info.inlined_postings()
        return Postings(np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64))
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length as unpack_int's 1-tuple
        (length,) = length
    if bulk is not None and (kept := bulk.find(offset)) is not None:
        return Postings(*kept)
    stream = BytesIO(terms._postfile.get(offset, length))
    if stream.read(4) != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"damaged postings of {fieldname}:{tbytes!r}")
    ids, weights = [], []
    last = False
    while not last:
        (size,) = unpack_int(stream.read(4))
        last, size = size < 0, abs(size)
        start = stream.tell()
        count, _maxid, _maxweight, compression, _minlength, _maxlength = pickle.load(stream)
        data = stream.read(size - (stream.tell() - start))
        deltas, block_weights, _values = pickle.loads(zlib.decompress(data) if compression else data)
        ids.append(np.cumsum(np.array(deltas, dtype=np.int64)))  # a block's first delta is from 0
        # None: every weight is 1; a number: every weight is that number; else one weight per posting.
        weights.append(np.full(count, 1.0 if block_weights is None else block_weights)
                       if not isinstance(block_weights, tuple) else np.array(block_weights, dtype=np.float64))
    return Postings(np.concatenate(ids), np.concatenate(weights))


def read_column(reader, fieldname: str) -> np.ndarray:
    """A numeric column of a segment, every document's value, read at once."""
    return _numbers(reader.column_reader(fieldname, translate=False), reader.doc_count_all())


def read_lengths(reader, fieldname: str) -> np.ndarray:
    """The length byte of the field in every document of a segment (what BM25F's length comes from)."""
    perdoc, name = reader._perdoc, _lenfield(fieldname)
    if not perdoc.has_column(name):
        return np.zeros(reader.doc_count_all(), dtype=np.int64)
    return _numbers(perdoc.column_reader(name, LENGTHS_COLUMN), reader.doc_count_all())


def _numbers(column, count: int) -> np.ndarray:
    """The column's values as int64, stored big-endian from the first document on; documents after the
    last stored value have the column's default."""
    values = np.full(count, column._default if isinstance(column, NumericColumn.Reader) else 0, dtype=np.int64)
    if isinstance(column, NumericColumn.Reader):
        stored = np.frombuffer(column._dbfile.get(column._basepos, column._count * column._fixedlen),
                               dtype=">" + column._typecode)
        values[:len(stored)] = stored
    else:
        values[:] = [column[n] for n in range(count)]
    return values


class Segment:
    """One segment of the searcher, with what one search reads from it, read once."""

    def __init__(self, searcher, offset: int) -> None:
        self.searcher, self.offset = searcher, offset
        self.reader = searcher.reader()
        self.count = self.reader.doc_count_all()
        self.live = np.ones(self.count, dtype=bool)
        if self.reader.has_deletions():
            self.live[list(self.reader.segment().deleted_docs())] = False
        self.bulk = BulkPostings.of(self.reader)
        self._postings: dict[tuple[str, bytes], Postings] = {}
        self._columns: dict[str, np.ndarray] = {}

    def __enter__(self) -> Segment:
        return self

    def __exit__(self, *exc) -> None:
        if self.bulk is not None:
            self.bulk.close()

    def postings(self, fieldname: str, text) -> Postings:
        tbytes = text if isinstance(text, bytes) else self.reader.schema[fieldname].to_bytes(text)
        key = (fieldname, tbytes)
        found = self._postings.get(key)
        if found is None:
            found = self._postings[key] = read_postings(self.reader, fieldname, tbytes, self.bulk)
        return found

    def column(self, fieldname: str) -> np.ndarray:
        values = self._columns.get(fieldname)
        if values is None:
            values = self._columns[fieldname] = read_column(self.reader, fieldname)
        return values

    def lengths(self, fieldname: str) -> np.ndarray:
        key = f"length of {fieldname}"
        values = self._columns.get(key)
        if values is None:
            values = self._columns[key] = read_lengths(self.reader, fieldname)
        return values

    def term_docs(self, fieldname: str, text) -> np.ndarray:
        """The live documents with the term, as a boolean array over the segment's documents."""
        found = np.zeros(self.count, dtype=bool)
        found[self.postings(fieldname, text).ids] = True
        return found & self.live


def docs(query: wq.Query, segment: Segment) -> np.ndarray:
    """The segment's live documents that match the query, as a boolean array."""
    if isinstance(query, wq.Term):
        return segment.term_docs(query.fieldname, query.text)
    if isinstance(query, wq.And):
        return np.logical_and.reduce([docs(q, segment) for q in query.subqueries])
    if isinstance(query, wq.Or):
        return np.logical_or.reduce([docs(q, segment) for q in query.subqueries])
    if isinstance(query, wq.AndNot):
        return docs(query.a, segment) & ~docs(query.b, segment)
    if isinstance(query, wq.Every):
        return segment.live.copy()
    if isinstance(query, wq.Prefix):
        return _prefix_docs(query, segment)
    if isinstance(query, wq.Phrase):
        found = docs(wq.And([wq.Term(query.fieldname, w) for w in query.words]), segment)
        if found.any():
            confirmed = np.zeros(segment.count, dtype=bool)
            confirmed[list(query.docs(segment.searcher))] = True
            found &= confirmed
        return found
    raise TypeError(f"no bulk evaluation for {type(query).__name__}")


def _prefix_docs(query: wq.Prefix, segment: Segment) -> np.ndarray:
    found = np.zeros(segment.count, dtype=bool)
    for tbytes in segment.reader.expand_prefix(query.fieldname, query.text):
        found[segment.postings(query.fieldname, tbytes).ids] = True
    return found & segment.live


def estimate(query: wq.Query, segments: list[Segment]) -> int:
    """About how many documents match, from the term index alone (no posting list is read): an AND as its
    rarest part, an OR as the sum of its parts, a prefix as every document."""
    if isinstance(query, wq.Term):
        return sum(s.reader.doc_frequency(query.fieldname, query.text) for s in segments)
    if isinstance(query, (wq.And, wq.Phrase)):
        parts = query.subqueries if isinstance(query, wq.And) else [wq.Term(query.fieldname, w) for w in query.words]
        return min((estimate(q, segments) for q in parts), default=0)
    if isinstance(query, wq.Or):
        return sum(estimate(q, segments) for q in query.subqueries)
    if isinstance(query, wq.AndNot):
        return estimate(query.a, segments)
    return sum(int(s.live.sum()) for s in segments)


def scored_terms(query: wq.Query) -> Iterable[tuple[str, str, bool]]:
    """(field, text, is a prefix) of every term that counts toward the score: not those under NOT."""
    if isinstance(query, wq.Term):
        yield query.fieldname, query.text, False
    elif isinstance(query, wq.Prefix):
        yield query.fieldname, query.text, True
    elif isinstance(query, wq.Phrase):
        for word in query.words:
            yield query.fieldname, word, False
    elif isinstance(query, wq.AndNot):
        yield from scored_terms(query.a)
    elif isinstance(query, (wq.And, wq.Or)):
        for sub in query.subqueries:
            yield from scored_terms(sub)


def scores(query: wq.Query, segments: list[Segment]) -> list[np.ndarray]:
    """BM25F scores, as Whoosh computes them (the sum over the matched terms), of every document of each
    segment (those the query does not match score what their terms give, usually 0). A prefix, like
    Whoosh's constant-score prefix, adds 1 to each document it matches."""
    total_docs = sum(s.count for s in segments)
    result = [np.zeros(segment.count, dtype=np.float64) for segment in segments]
    for fieldname, text, prefix in set(scored_terms(query)):
        if prefix:
            for segment, totals in zip(segments, result):
                totals += _prefix_docs(wq.Prefix(fieldname, text), segment)
            continue
        lists = [segment.postings(fieldname, text) for segment in segments]
        frequency = sum(len(p.ids) for p in lists)
        if not frequency:
            continue
        idf = log(total_docs / (frequency + 1)) + 1
        average = (sum(s.reader.field_length(fieldname) for s in segments) / (total_docs or 1)) or 1
        scorable = segments[0].reader.schema[fieldname].scorable
        for segment, postings, totals in zip(segments, lists, result):
            if not len(postings.ids):
                continue
            weight = postings.weights
            if scorable:
                length = _LENGTHS[segment.lengths(fieldname)[postings.ids]]
                totals[postings.ids] += idf * (weight * (K1 + 1)) / (weight + K1 * ((1 - B) + B * length / average))
            else:  # Whoosh's WeightScorer: the weight alone
                totals[postings.ids] += weight
    return result

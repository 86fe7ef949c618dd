"""A rebuild written as whole Whoosh segments from memory, in one process or several.

Whoosh's own writer hands every posting to a sorting pool that pickles runs to disk and merges them back,
then adds the postings to the files one call each: most of the time a rebuild took. Here a segment's
postings are gathered per term in memory (document numbers and weights in arrays; positions as numbers,
encoded only when written; a field that holds the same text as another shares its postings) and written
term by term in whole blocks, through Whoosh's own codec, so the files are ones Whoosh reads
(tests/search/test_segments.py compares them with what Whoosh's writer makes). A segment is closed once
its postings reach the memory budget, so a rebuild of any size runs in bounded memory. With several
processes, the parent reads the database and the text store and hands batches of entries to worker
processes that each write their own segments; the caller commits the segments in one table of contents.
"""
from __future__ import annotations

import multiprocessing
import queue
import traceback
from array import array
from collections.abc import Callable, Iterable
from itertools import chain, repeat
from operator import sub

from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Existence, Frequency, Positions
from whoosh.system import emptybytes, pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from .bulk_postings import BULK_FROM, BulkPostingsWriter

POSTING_BYTES = 10  # memory of one gathered posting: its document number and weight in arrays, with their slack
TERM_BYTES = 450  # memory of one gathered term: its key, its containers and its place in the dict
_LENGTHS = [byte_to_length(b) if b else None for b in range(256)]  # a length byte back to the length Whoosh uses
_POSITIONS = Positions()
_single_positions: dict[int, bytes] = {}
_frequencies: dict[int, bytes] = {}


def positions_value(positions: list[int]) -> bytes:
    """The value Whoosh's Positions format stores for a term's positions in a document (most terms occur
    once in a document: those values are shared)."""
    if len(positions) > 1:
        return _POSITIONS.encode(positions)
    value = _single_positions.get(positions[0])
    if value is None:
        value = _single_positions[positions[0]] = _POSITIONS.encode(positions)
    return value


def frequency_value(count: int) -> bytes:
    """The value Whoosh's Frequency format stores for a term that occurs `count` times in a document."""
    value = _frequencies.get(count)
    if value is None:
        value = _frequencies[count] = pack_uint(count)
    return value


def _values_of(field) -> Callable[[array], list[bytes]] | None:
    """How the values of a term's postings follow from their weights, for the formats where they do (then
    they are not kept)."""
    if isinstance(field.format, Existence):
        return lambda weights: [emptybytes] * len(weights)
    if type(field.format) is Frequency and field.format.field_boost == 1.0:
        return _frequency_values
    return None


def _frequency_values(weights: array) -> list[bytes]:
    counts = list(map(int, weights))
    for count in set(counts).difference(_frequencies):
        frequency_value(count)
    return list(map(_frequencies.__getitem__, counts))


def _positions_values(counts: array, places: array) -> list[bytes]:
    """The Positions values of a term's postings from its positions, `counts[i]` of them for posting i."""
    if len(counts) == len(places):  # one position in each document, as most terms have
        for place in set(places).difference(_single_positions):
            positions_value([place])
        return list(map(_single_positions.__getitem__, places))
    values, start = [], 0
    for count in map(int, counts):
        values.append(positions_value(places[start:start + count]))
        start += count
    return values


def _keeps_positions(field) -> bool:
    """Fields whose positions are kept as numbers until written: far less memory than their encoded values."""
    return (hasattr(field, "term_positions") and type(field.format) is Positions
            and field.format.field_boost == 1.0)


class _BlockPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer, given a term's postings a block at a time instead of one call per posting,
    with the per-block work done in C where Whoosh loops in Python. A block of few postings (most terms of
    a rebuild have one: numbers, names) is not compressed: its pickle is smaller than zlib's overhead."""

    COMPRESS_FROM = 16  # postings in a block

    def add_all(self, ids: array, weights: array, values: list, lengths: list) -> None:
        limit = self._blocklimit
        for start in range(0, len(ids), limit):
            if len(self._ids):
                self._write_block()
            end = start + limit
            self._ids, self._weights, self._values = ids[start:end], weights[start:end], values[start:end]
            self._maxweight = max(self._weights)
            known = [length for length in lengths[start:end] if length is not None]
            self._minlength, self._maxlength = (min(known), max(known)) if known else (None, 0)
        # The last block stays buffered: finish_postings() writes it, marked as the last one.

    def _write_block(self, last=False):
        self._compression = self._level if len(self._ids) >= self.COMPRESS_FROM else 0
        super()._write_block(last)

    def _mini_ids(self):
        ids = self._ids
        return (ids[0], *map(sub, ids[1:], ids[:-1]))

    def _mini_weights(self):
        weights = self._weights
        if weights.count(1.0) == len(weights):
            return None
        if weights.count(weights[0]) == len(weights):
            return weights[0]
        return tuple(weights)


class _BlockCodec(W3Codec):
    """Used for writing only: the segments it writes name the plain W3Codec, which reads them (a block says
    how many postings it holds and how it is compressed). Blocks hold up to 1024 postings (Whoosh's writer
    puts 128): a search reads a common word's whole list, and pays per block. They are compressed at
    zlib's fastest level (Whoosh's default is 3): the index is a little larger, written faster."""

    def __init__(self) -> None:
        super().__init__(blocklimit=1024, compression=1)

    def postings_writer(self, dbfile, byteids=False):
        writer = _BlockPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                      compression=self._compression, inlinelimit=self._inlinelimit)
        writer._level = self._compression
        return writer


class SegmentBuilder:
    """One new segment: documents are added in memory, `finish()` writes the segment's files.

    `mirrors` names fields that always hold the same text as another field, analysed alike (content and
    phrases: one without positions, one with): their postings are the other's, gathered once.
    """

    def __init__(self, storage: FileStorage, indexname: str, schema, mirrors: dict[str, str] | None = None) -> None:
        self.storage, self.schema = storage, schema
        self.mirrors = mirrors or {}
        for mirror, source in self.mirrors.items():
            if schema[mirror].format.field_boost != schema[source].format.field_boost:
                raise ValueError(f"{mirror} cannot share the postings of {source}: their weights differ")
        self.segment = W3Codec().new_segment(storage, indexname)
        self.perdoc = W3Codec().per_document_writer(storage, self.segment)
        self.postings: dict[str, dict[bytes, tuple[array, array, list]]] = {}
        self.lengths: dict[str, array] = {}  # field -> length byte of each document
        self.doc_count = 0
        self.memory = 0  # estimated bytes held

    def add(self, fields: dict) -> None:
        """Add one document, as SegmentWriter.add_document does."""
        docnum, schema, perdoc = self.doc_count, self.schema, self.perdoc
        perdoc.start_doc(docnum)
        added = terms_added = numbers = 0  # postings, terms, and 4-byte numbers (positions) gathered
        lengths: dict[str, int] = {}
        for fieldname in sorted(fields, key=lambda name: (name in self.mirrors, name)):  # sources first
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed and fieldname in self.mirrors:
                source = self.mirrors[fieldname]
                if fields.get(source) != value:
                    raise ValueError(f"{fieldname} must hold the same text as {source}")
                length = lengths[source]
            elif field.indexed and _keeps_positions(field):
                terms = self.postings.setdefault(fieldname, {})
                get = terms.get
                for term, places in field.term_positions(value).items():
                    tbytes = term.encode()
                    length += len(places)
                    gathered = get(tbytes)
                    if gathered is None:
                        terms[tbytes] = gathered = (array("I"), array("f"), array("I"))
                        terms_added += 1
                    gathered[0].append(docnum)
                    gathered[1].append(len(places))
                    gathered[2].extend(places)
                    added += 1
                    numbers += len(places)
            elif field.indexed:
                terms = self.postings.setdefault(fieldname, {})
                keep_values = _values_of(field) is None
                get = terms.get
                for tbytes, freq, weight, vbytes in field.index(value):
                    length += freq
                    gathered = get(tbytes)
                    if gathered is None:
                        terms[tbytes] = gathered = (array("I"), array("f"), [] if keep_values else None)
                        terms_added += 1
                    gathered[0].append(docnum)
                    gathered[1].append(weight)
                    if keep_values:
                        gathered[2].append(vbytes)
                        numbers += 2 + len(vbytes) // 4
                    added += 1
            if not field.scorable:
                length = 0
            lengths[fieldname] = length
            if length:
                column = self.lengths.get(fieldname)
                if column is None:
                    column = self.lengths[fieldname] = array("B")
                column.extend(bytes(docnum - len(column)))
                column.append(length_to_byte(length))
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(fieldname, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self.doc_count += 1
        self.memory += added * POSTING_BYTES + numbers * 4 + terms_added * TERM_BYTES

    def finish(self):
        """Write the postings and the per-document files; returns the segment, for a table of contents."""
        self.perdoc.close()
        fieldwriter = _BlockCodec().field_writer(self.storage, self.segment)
        bulk = BulkPostingsWriter(self.storage, self.segment, self.doc_count)
        written = set(self.postings) | {m for m, source in self.mirrors.items() if source in self.postings}
        for fieldname in sorted(written):
            field = self.schema[fieldname]
            fieldwriter.start_field(fieldname, field)
            lengths = self.lengths.get(fieldname)
            if lengths is not None:
                lengths.extend(bytes(self.doc_count - len(lengths)))
            source = self.mirrors.get(fieldname, fieldname)
            terms = self.postings[source]
            derive, positional = _values_of(field), _keeps_positions(field)
            for tbytes in sorted(terms):
                ids, weights, values = terms[tbytes]
                if derive is not None:
                    values = derive(weights)
                elif positional:
                    values = _positions_values(weights, values)
                fieldwriter.start_term(tbytes)
                postwriter = fieldwriter._postwriter
                postings_start = postwriter._startoffset  # where start_term began the term's postings
                postwriter.add_all(
                    ids, weights, values,
                    [_LENGTHS[lengths[d]] for d in ids] if lengths is not None else [None] * len(ids))
                fieldwriter.finish_term()
                if len(ids) >= BULK_FROM:
                    bulk.add(postings_start, ids, weights, same_as=(source, tbytes))
            fieldwriter.finish_field()
        self.postings.clear()
        fieldwriter.close()
        bulk.close()
        self.segment.set_doc_count(self.doc_count)
        return self.segment  # left as separate files: see index.WhooshBackend._writer


def _build(storage: FileStorage, indexname: str, schema, mirrors: dict[str, str], documents: Iterable[dict],
           limit_mb: int, progress: Callable[[int], None]) -> list:
    """Segments of the documents (field dicts), each closed once it holds `limit_mb` of postings."""
    segments, builder = [], None
    for fields in documents:
        if builder is None:
            builder = SegmentBuilder(storage, indexname, schema, mirrors)
        builder.add(fields)
        progress(1)
        if builder.memory >= limit_mb * 2**20:
            segments.append(builder.finish())
            builder = None
    if builder is not None:
        segments.append(builder.finish())
    return segments


def build(storage: FileStorage, indexname: str, schema, batches: Iterable[list[dict]], *, procs: int,
          limit_mb: int, progress: Callable[[int], None], mirrors: dict[str, str] | None = None) -> list:
    """Write segments for every document of `batches` (lists of field dicts); returns them, uncommitted.

    procs > 1: the caller's process produces the batches (database reads, decryption) while `procs` worker
    processes analyse them and write segments, each within `limit_mb`.
    """
    if procs <= 1:
        return _build(storage, indexname, schema, mirrors or {}, (fields for batch in batches for fields in batch),
                      limit_mb, progress)
    context = multiprocessing.get_context("spawn")  # nothing of the caller (threads, connections) is inherited
    jobs, results = context.Queue(procs * 2), context.Queue()
    workers = [context.Process(target=_worker, daemon=True,
                               args=(storage.folder, indexname, schema, mirrors or {}, jobs, results, limit_mb))
               for _ in range(procs)]
    for worker in workers:
        worker.start()
    segments: list = []
    finished = 0
    try:
        for job in chain(batches, repeat(None, procs)):  # a None tells a worker that nothing more will come
            while True:
                finished += _drain(results, segments, progress)
                try:
                    jobs.put(job, timeout=0.5)
                    break
                except queue.Full:
                    _check(workers)
        while finished < procs:
            received = _drain(results, segments, progress, wait=0.5)
            finished += received
            if not received and not _check(workers):
                # Every worker has ended: what they sent before ending is in the queue by now.
                finished += _drain(results, segments, progress, wait=0.5)
                if finished < procs:
                    raise RuntimeError("an index writer process ended without handing over its segments")
        for worker in workers:
            worker.join()
        return segments
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()


def _drain(results, segments: list, progress: Callable[[int], None], wait: float = 0) -> int:
    """Handle the workers' messages (waiting up to `wait` seconds for the first); returns how many finished."""
    finished = 0
    while True:
        try:
            kind, value = results.get(timeout=wait) if wait else results.get_nowait()
        except queue.Empty:
            return finished
        wait = 0
        if kind == "progress":
            progress(value)
        elif kind == "segments":
            segments.extend(value)
            finished += 1
        else:
            raise RuntimeError(f"an index writer process failed:\n{value}")


def _check(workers) -> bool:
    """Whether a worker is still running; a worker that died fails the rebuild."""
    for worker in workers:
        if worker.exitcode not in (None, 0):
            raise RuntimeError(f"an index writer process died (exit code {worker.exitcode})")
    return any(worker.is_alive() for worker in workers)


def _worker(folder: str, indexname: str, schema, mirrors: dict[str, str], jobs, results, limit_mb: int) -> None:
    try:
        def documents():
            while (batch := jobs.get()) is not None:
                yield from batch
                results.put(("progress", len(batch)))

        segments = _build(FileStorage(folder), indexname, schema, mirrors, documents(), limit_mb, lambda n: None)
        results.put(("segments", segments))
    except BaseException:
        results.put(("error", traceback.format_exc()))
        raise

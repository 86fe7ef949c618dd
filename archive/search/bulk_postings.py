"""Long posting lists kept a second time, as plain arrays a search reads without decoding.

A common word of a large archive has tens of thousands of postings per segment. In Whoosh's files they
are pickled, zlib-compressed blocks: a search spent most of its time decompressing and unpickling them
into Python numbers, only to turn them into arrays. A segment written by a rebuild (segments.py) also
gets a `.bpst` file holding, for each posting list of at least BULK_FROM postings, the document numbers
(uint16 when the segment has at most 65,536 documents, else uint32) and the weights (none when all are
1, uint8 when all are whole numbers up to 255, else float32), little-endian, which NumPy maps as they
are. Whoosh's own files are unchanged and stay complete (Whoosh's matchers, phrases and merges use them).
Whoosh's own writer (documents filed one by one, and its merges of segments) writes the file too, through
BulkCodec; a segment without one (written before this existed) is read from Whoosh's blocks as before.

A list is found by where its postings start in the segment's `.pst` file (the term information Whoosh
looks up anyway gives it): the directory at the end of the file maps those offsets, in ascending order,
to the arrays. Its name follows the segment's, so Whoosh deletes it with the segment.
"""
from __future__ import annotations

import struct
from array import array

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter

BULK_EXT = ".bpst"
BULK_FROM = 1024  # postings: shorter lists decode from Whoosh's blocks in about as long as a lookup here
_MAGIC = b"BPS1"
_FOOTER = struct.Struct("<qqq4s")  # directory entries, directory offset, bytes per document number, magic
_ALL_ONES, _WHOLE, _FLOAT = 0, 1, 2  # how a list's weights are kept
_WEIGHT_TYPES = {_WHOLE: np.dtype("<u1"), _FLOAT: np.dtype("<f4")}
_ID_TYPES = {2: np.dtype("<u2"), 4: np.dtype("<u4")}


class BulkPostingsWriter:
    """Written beside a new segment's files, one posting list at a time, in the order of the `.pst` file."""

    def __init__(self, storage, segment, doc_count: int | None) -> None:
        """`doc_count`: the segment's documents, when known before its postings are written."""
        self.file = segment.create_file(storage, BULK_EXT)
        self.id_type = _ID_TYPES[2 if doc_count is not None and doc_count <= 2**16 else 4]
        self.starts, self.places, self.counts, self.kinds = array("q"), array("q"), array("q"), array("q")
        self._written: dict[object, tuple[int, int, int]] = {}

    def add(self, postings_start: int, ids: array, weights: array, same_as: object = None) -> None:
        """The list whose postings start at `postings_start` in the `.pst` file: document numbers and weights
        as gathered. Lists with equal `same_as` keys hold the same postings (a field and its mirror) and
        share one copy."""
        if self.starts and postings_start <= self.starts[-1]:
            raise ValueError("posting lists must be added in the order of the postings file")
        kept = self._written.get(same_as) if same_as is not None else None
        if kept is None:
            kept = self._write(ids, weights)
            if same_as is not None:
                self._written[same_as] = kept
        place, count, kind = kept
        self.starts.append(postings_start)
        self.places.append(place)
        self.counts.append(count)
        self.kinds.append(kind)

    def _write(self, ids: array, weights: array) -> tuple[int, int, int]:
        place = self.file.tell()
        self.file.write(np.frombuffer(ids, dtype=np.uint32).astype(self.id_type).tobytes())
        values = np.frombuffer(weights, dtype=np.float32)
        if (values == 1).all():
            kind = _ALL_ONES
        elif ((values >= 0) & (values <= 255) & (values == np.round(values))).all():
            kind = _WHOLE
        else:
            kind = _FLOAT
        if kind != _ALL_ONES:
            self.file.write(values.astype(_WEIGHT_TYPES[kind]).tobytes())
        return place, len(ids), kind

    def close(self) -> None:
        directory = self.file.tell()
        for column in (self.starts, self.places, self.counts, self.kinds):
            self.file.write(np.frombuffer(column, dtype=np.int64).astype("<i8").tobytes())
        self.file.write(_FOOTER.pack(len(self.starts), directory, self.id_type.itemsize, _MAGIC))
        self.file.close()


class BulkPostings:
    """A segment's `.bpst` file, opened for one search."""

    def __init__(self, file, size: int) -> None:
        if size < _FOOTER.size:
            raise ValueError("bulk postings file too short")
        entries, directory, id_size, magic = _FOOTER.unpack(file.get(size - _FOOTER.size, _FOOTER.size))
        if magic != _MAGIC or id_size not in _ID_TYPES or directory + entries * 32 != size - _FOOTER.size:
            raise ValueError("damaged bulk postings file")
        self.file, self.id_type = file, _ID_TYPES[id_size]
        columns = np.frombuffer(file.get(directory, entries * 32), dtype="<i8").reshape(4, entries)
        self.starts, self.places, self.counts, self.kinds = columns

    @classmethod
    def of(cls, reader) -> BulkPostings | None:
        """The file of the reader's segment, or None when the segment has none."""
        storage, name = reader.storage(), reader.segment().make_filename(BULK_EXT)
        if not storage.file_exists(name):
            return None
        return cls(storage.open_file(name), storage.file_length(name))

    def find(self, postings_start: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Document numbers and weights of the list starting at `postings_start` in `.pst`, if kept here."""
        at = int(np.searchsorted(self.starts, postings_start))
        if at == len(self.starts) or self.starts[at] != postings_start:
            return None
        place, count, kind = int(self.places[at]), int(self.counts[at]), int(self.kinds[at])
        ids = np.frombuffer(self.file.get(place, count * self.id_type.itemsize), dtype=self.id_type)
        if kind == _ALL_ONES:
            return ids.astype(np.int64), np.ones(count, dtype=np.float64)
        if kind not in _WEIGHT_TYPES:
            raise ValueError("damaged bulk postings file")
        weight_type = _WEIGHT_TYPES[kind]
        weights = np.frombuffer(self.file.get(place + count * self.id_type.itemsize, count * weight_type.itemsize),
                                dtype=weight_type)
        return ids.astype(np.int64), weights.astype(np.float64)

    def close(self) -> None:
        self.file.close()


class BulkCodec(W3Codec):
    """Whoosh's codec for Whoosh's own writer, keeping each new segment's long lists as arrays as well. The
    segments it makes name the plain W3Codec, so an index never depends on this class to be read."""

    def new_segment(self, storage, indexname):
        return W3Codec().new_segment(storage, indexname)

    def field_writer(self, storage, segment):
        return _BulkFieldWriter(self, storage, segment)


class _BulkFieldWriter(W3FieldWriter):
    """Whoosh's field writer, noting each term's document numbers and weights as they pass."""

    def __init__(self, codec, storage, segment) -> None:
        super().__init__(codec, storage, segment)
        self._bulk = BulkPostingsWriter(storage, segment, None)  # the segment's size is known only at the end
        self._ids, self._weights = array("I"), array("f")

    def start_term(self, btext):
        super().start_term(btext)
        self._ids, self._weights = array("I"), array("f")

    def add(self, docnum, weight, vbytes, length):
        super().add(docnum, weight, vbytes, length)
        self._ids.append(docnum)
        self._weights.append(weight)

    def finish_term(self):
        postings_start = self._postwriter._startoffset  # where start_term began the term's postings
        super().finish_term()
        if len(self._ids) >= BULK_FROM:
            self._bulk.add(postings_start, self._ids, self._weights)

    def close(self):
        super().close()
        self._bulk.close()

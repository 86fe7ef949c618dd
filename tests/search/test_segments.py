"""A rebuild writes its segments from memory (archive/search/segments.py) and answers queries in bulk
(archive/search/matching.py): both must agree exactly with Whoosh's own writer and matchers."""
from __future__ import annotations

import json
import random
from datetime import date, timedelta

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.writing import SegmentWriter

from archive.core.enums import Category
from archive.search import bulk_postings, matching, segments
from archive.search.analysis import index_terms, pieces
from archive.search.index import Admission, Entry, Filters, Request, WhooshBackend, _fields, _to_whoosh, schema
from archive.search.services import parse

NAMES = ["张伟", "王芳", "李娜", "欧阳明", "陈静", "司马光"]
SENTENCES = [
    "业主{name}报修：{unit}卫生间天花板漏水，维修班组于{day}上门更换防水层。",
    "买受人{name}购买{unit}住宅一套，合同编号HT-{year}-{n:04d}，总价款人民币{money}元。",
    "判决被告退还押金人民币{money}元并支付违约金，案件受理费由被告负担。",
    "承租人{name}租赁{unit}商铺，月租金人民币{money}元，租赁押金无息退还。Room {n} A2.3 ｘ１５０２",
]


class Everyone(Admission):
    """A reader who may read every document."""

    def __call__(self, candidate_ids):
        return list(candidate_ids)


def _entries(count: int, seed: int = 7) -> list[Entry]:
    """Chinese property papers with names, units, identifiers, repeated words (so several positions per
    term) and enough documents sharing a word for posting lists of several blocks."""
    rng = random.Random(seed)
    built = []
    for i in range(count):
        unit = f"{rng.randint(1, 15)}栋{rng.randint(1, 3)}单元{rng.randint(1, 30):02d}0{rng.randint(1, 4)}"
        text = "".join(rng.choice(SENTENCES).format(
            name=rng.choice(NAMES), unit=unit, day=f"{rng.randint(2015, 2024)}年{rng.randint(1, 12)}月",
            year=rng.randint(2015, 2024), n=rng.randint(1, 999), money=rng.randint(1, 90) * 1000,
        ) for _ in range(rng.randint(1, 12)))
        category = rng.choice(list(Category)).value
        built.append(Entry(
            document_id=1000 + i * 3, stamp=f"s{i}", content=text, title=text[:12], number=f"QZ01-P1-{i:04d}",
            customers=" ".join(rng.sample(NAMES, 2)), unit=unit, category=category, level=rng.choice("CCB"),
            project_id=rng.randint(1, 3), building_id=rng.randint(1, 5) if i % 4 else None,
            department_id=rng.randint(1, 4), scope=("d2", "u9") if i % 5 == 0 else (),
            doc_date=date(2015, 1, 1) + timedelta(days=rng.randint(0, 3600)),
        ))
    return built


def _whoosh_writes(path, entries: list[Entry]) -> None:
    ix = whoosh_index.create_in(str(path), schema())
    writer = SegmentWriter(ix)
    for entry in entries:
        writer.add_document(**_fields(entry))
    writer.commit()


def _contents(path) -> dict:
    """Everything a reader can see: terms with postings (ids, weights, values), stored fields, columns, lengths."""
    ix = whoosh_index.open_dir(str(path))
    with ix.reader() as reader:
        postings = {}
        for fieldname, tbytes in reader.all_terms():
            matcher = reader.postings(fieldname, tbytes)
            rows = []
            while matcher.is_active():
                rows.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            postings[(fieldname, tbytes)] = rows
        columns = {name: [reader.column_reader(name)[n] for n in range(reader.doc_count_all())]
                   for name in ("key", "cat", "lvl", "proj", "day")}
        lengths = {name: [reader.doc_field_length(n, name) for n in range(reader.doc_count_all())]
                   for name in ("content", "title", "number", "customer", "unit", "scope")}
        return {"postings": postings, "stored": list(reader.all_stored_fields()), "columns": columns,
                "lengths": lengths, "field_lengths": {n: reader.field_length(n) for n in lengths}}


def test_index_terms_are_the_analysers_tokens():
    for entry in _entries(60):
        for text in (entry.content, entry.unit, "３栋2单元１５０２ HT-2023-0158号 13栋 Ａ2.3 〇 甲"):
            expected: dict[str, list[int]] = {}
            for piece in pieces(text, "index"):
                expected.setdefault(piece.text, []).append(piece.pos)
            assert index_terms(text) == expected


def test_a_segment_written_from_memory_is_the_one_whoosh_writes(tmp_path):
    # Common words have posting lists of several blocks (of 128 postings in Whoosh's writer, 1024 in ours).
    entries = _entries(1100)
    (tmp_path / "whoosh").mkdir()
    _whoosh_writes(tmp_path / "whoosh", entries)
    ours = WhooshBackend(tmp_path / "ours")
    assert ours.rebuild(entries) == 1100
    expected, written = _contents(tmp_path / "whoosh"), _contents(tmp_path / "ours")
    assert written["postings"].keys() == expected["postings"].keys()
    assert written == expected
    assert max(len(rows) for rows in written["postings"].values()) > 1024


def test_a_small_memory_budget_closes_segments_and_searches_span_them(tmp_path):
    entries = _entries(300)
    backend = WhooshBackend(tmp_path / "index", memory_mb=1)
    backend.rebuild(entries)
    with backend.open().searcher() as searcher:
        assert len(searcher.leaf_searchers()) >= 3
    whole = WhooshBackend(tmp_path / "whole")
    whole.rebuild(entries)
    everyone = Everyone()
    for text in ("押金", "漏水 维修", "张伟 OR 王芳", "押金 -漏水", '"退还押金"', "HT", "单", "title:买受人"):
        request = Request(parse(text), Filters(), ["C", "B", "A"], limit=500)
        assert backend.search(request, everyone) == whole.search(request, everyone), text


QUERIES = ["押金", "押金 退还", "漏水 OR 租金", "押金 -漏水", "NOT 押金", '"退还押金"', '"押金退还"', "单",
           "HT-2023-0158", "0158", "1502", "3栋", "栋2单", "title:买受人", "customer:张伟", "张伟 王芳 OR 李娜",
           "unit:3栋", "A2.3", "room", "欧阳"]


def _whoosh_docs(query, searcher) -> set[int]:
    """Whoosh's matchers for the terms, prefixes and phrases; AND, OR and NOT as sets. (Whoosh's own
    AndNotMatcher keeps a document whose exclusion is not the excluding list's first: "押金 -漏水" would
    list a paper with 漏水 in it.)"""
    if isinstance(query, wq.And):
        return set.intersection(*(_whoosh_docs(q, searcher) for q in query.subqueries))
    if isinstance(query, wq.Or):
        return set.union(*(_whoosh_docs(q, searcher) for q in query.subqueries))
    if isinstance(query, wq.AndNot):
        return _whoosh_docs(query.a, searcher) - _whoosh_docs(query.b, searcher)
    return set(query.docs(searcher))


def _whoosh_scores(query, searcher, docnums: set[int]) -> dict[int, float]:
    """Whoosh's BM25F score of each document: the sum, over the query's terms outside NOT that the document
    has, of the score Whoosh's scorer gives that term there."""
    positive = query.a if isinstance(query, wq.AndNot) else query
    totals = dict.fromkeys(docnums, 0.0)
    for term in {(leaf.fieldname, leaf.text) for leaf in positive.leaves()}:
        if not searcher.doc_frequency(*term):
            continue
        scorer = searcher.weighting.scorer(searcher, *term)
        for docnum in docnums:
            matcher = wq.Term(*term).matcher(searcher)
            if matcher.is_active():
                matcher.skip_to(docnum)
                if matcher.is_active() and matcher.id() == docnum:
                    totals[docnum] += scorer.score(matcher)
    return totals


@pytest.mark.parametrize("deletions", [False, True], ids=["fresh", "updated"])
@pytest.mark.parametrize("bulk_from", [bulk_postings.BULK_FROM, 2], ids=["long-lists-as-arrays", "all-as-arrays"])
def test_bulk_answers_are_whooshs_answers(tmp_path, monkeypatch, deletions, bulk_from):
    """Same documents and, for a relevance order, the same scores as Whoosh's matchers and BM25F, whether
    the postings come from Whoosh's blocks or from the arrays kept beside them."""
    monkeypatch.setattr(segments, "BULK_FROM", bulk_from)
    monkeypatch.setattr(bulk_postings, "BULK_FROM", bulk_from)
    entries = _entries(300)
    backend = WhooshBackend(tmp_path / "index", memory_mb=1 if deletions else 256)
    backend.rebuild(entries)
    if deletions:  # updated entries: the old ones are deleted in their segments, the new ones appended
        backend.upsert([Entry(**{**vars(e), "stamp": "new"}) for e in entries[::7]])
        backend.delete([entries[3].document_id])
    with backend.open().searcher() as searcher:
        if deletions:
            assert searcher.reader().has_deletions()
        leaves = [matching.Segment(leaf, offset) for leaf, offset in searcher.leaf_searchers()]
        # Every segment keeps arrays: the rebuild's and the one Whoosh's writer made for the update.
        assert all(leaf.bulk is not None for leaf in leaves)
        assert all(len(leaf.bulk.starts) > 0 for leaf in leaves) == (bulk_from == 2)
        for text in QUERIES:
            query = _to_whoosh(parse(text))
            expected = _whoosh_docs(query, searcher)
            found = {segment.offset + int(n)
                     for segment in leaves for n in np.flatnonzero(matching.docs(query, segment))}
            assert found == expected, text
            # Whoosh scores a prefix by how many terms it expands to in each segment, a phrase by its
            # spans, and "everything" by a constant: compared here are the term, AND, OR and NOT queries.
            if not any(isinstance(leaf, (wq.Prefix, wq.Phrase, wq.Every)) for leaf in query.leaves()):
                dense = matching.scores(query, leaves)
                ours = {n: float(scores[n - s.offset]) for n in expected
                        for s, scores in zip(leaves, dense) if s.offset <= n < s.offset + s.count}
                assert ours == pytest.approx(_whoosh_scores(query, searcher, expected)), text


@pytest.mark.parametrize("writer", ["rebuild", "whoosh"])
def test_long_posting_lists_are_kept_as_arrays_that_equal_whooshs_blocks(tmp_path, writer):
    entries = _entries(1100)
    backend = WhooshBackend(tmp_path / "index")
    if writer == "rebuild":
        backend.rebuild(entries)
    else:  # documents filed one by one go through Whoosh's own writer, in one segment here
        backend.upsert(entries)
    with backend.open().searcher() as searcher, matching.Segment(searcher, 0) as segment:
        assert searcher.doc_count_all() == 1100
        reader, bulk = segment.reader, segment.bulk
        kept = set()
        for fieldname, tbytes in reader.all_terms():
            from_blocks = matching.read_postings(reader, fieldname, tbytes)
            from_arrays = matching.read_postings(reader, fieldname, tbytes, bulk)
            assert from_arrays.ids.tolist() == from_blocks.ids.tolist()
            assert from_arrays.weights.tolist() == from_blocks.weights.tolist()
            if len(from_blocks.ids) >= bulk_postings.BULK_FROM:
                kept.add((fieldname, tbytes))
        assert len(bulk.starts) == len(kept) > 0
        assert {("content", t) for f, t in kept if f == "phrases"} <= kept
        if writer == "rebuild":  # content and its positional mirror (for phrases) are gathered once, kept once
            assert len(set(bulk.places)) == len(kept) - sum(1 for f, _ in kept if f == "phrases")


def test_a_damaged_bulk_postings_file_sets_the_index_aside_for_a_rebuild(tmp_path):
    backend = WhooshBackend(tmp_path / "index")
    backend.rebuild(_entries(1100))
    request = Request(parse("押金"), Filters(), ["C", "B"], limit=5)
    assert backend.search(request, Everyone()).total > 0
    (bulk_file,) = (tmp_path / "index").glob(f"*{bulk_postings.BULK_EXT}")
    bulk_file.write_bytes(bulk_file.read_bytes()[:-3])
    assert backend.search(request, Everyone()).total == 0
    assert backend.take_rebuild_request()
    assert list(tmp_path.glob("index.damaged-*"))


def test_a_rebuild_in_two_processes_finds_the_same(tmp_path):
    entries = _entries(500)
    one, two = WhooshBackend(tmp_path / "one"), WhooshBackend(tmp_path / "two")
    assert one.rebuild(entries) == two.rebuild(entries, procs=2) == 500
    everyone = Everyone()
    for text in ("押金", "漏水 维修", "张伟", '"退还押金"'):
        request = Request(parse(text), Filters(), ["C", "B"], limit=1000)
        first, second = one.search(request, everyone), two.search(request, everyone)
        assert (first.total, set(first.document_ids), first.facets) == \
               (second.total, set(second.document_ids), second.facets), text
    assert json.dumps(sorted(one.stamps().items())) == json.dumps(sorted(two.stamps().items()))

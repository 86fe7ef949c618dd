"""Recall and precision of two ways to analyse Chinese, on the labelled query set.

    python scripts/bench/analysers.py

The 40 documents of tests/search/data/queries.json are filed as real PDFs into a fresh SQLite archive under
/tmp, through the path tests/search/test_recall.py takes (filing → text → index). Each of the 46 queries then
runs twice over the same text (every page and metadata word the archive indexes for a document):

- CJK bigrams: the archive's own search (each word its non-overlapping bigrams, words ANDed), read by an
  archivist who may read every document;
- jieba: a plain Whoosh index of the same entries with jieba's ChineseAnalyzer (search mode), the query parsed
  by Whoosh's QueryParser with that analyser, its tokens ANDed.

Printed per analyser: recall (expected documents found / expected documents) and precision (found documents
that are expected / documents found), summed over the queries, the number of queries found completely, and
the queries with misses or extra documents.
"""
from __future__ import annotations

import base64
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("ARCHIVE_INSTANCE_PATH", "/nonexistent-instance-for-bench")


@dataclass
class Score:
    expected: int = 0
    found: int = 0
    relevant_found: int = 0
    complete: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    def add(self, query: str, expected: set[str], found: set[str]) -> None:
        self.expected += len(expected)
        self.found += len(found)
        self.relevant_found += len(expected & found)
        self.complete += expected <= found
        if expected - found:
            self.misses.append(f"{query} (misses {len(expected - found)} of {len(expected)})")
        if found - expected:
            self.extras.append(f"{query} (+{len(found - expected)})")

    def line(self, label: str, queries: int) -> str:
        recall = self.relevant_found / self.expected
        precision = self.relevant_found / self.found if self.found else 1.0
        return (f"{label:<12} recall {recall:.3f} ({self.relevant_found}/{self.expected}), precision {precision:.3f} "
                f"({self.relevant_found}/{self.found}), {self.complete}/{queries} queries found completely")


def jieba_index(entries, where: Path):
    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    jieba.setLogLevel(60)
    ix = index.create_in(str(where), Schema(id=ID(stored=True), content=TEXT(analyzer=ChineseAnalyzer())))
    with ix.writer() as writer:
        for entry in entries:
            writer.add_document(id=str(entry.document_id), content=entry.content)
    return ix


def jieba_search(ix, text: str) -> set[int]:
    from whoosh.qparser import QueryParser

    parser = QueryParser("content", ix.schema)  # words ANDed, as the archive's search does
    with ix.searcher() as searcher:
        return {int(hit["id"]) for hit in searcher.search(parser.parse(text), limit=None)}


def main() -> None:
    from flask_migrate import upgrade

    from archive import create_app
    from archive.auth.services import SYSTEM, create_user, ensure_default_departments
    from archive.core.enums import Level, Role
    from archive.core.keys import write_key_check
    from archive.extensions import db
    from archive.search import indexing
    from archive.search import services as search
    from tests.search.test_recall import DATA, build_corpus

    work = Path(tempfile.mkdtemp(prefix="bench-analysers-"))
    try:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'archive.db'}", "STORAGE_DIR": str(work / "storage"),
            "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "SECRET_KEY": "bench", "QUEUE_IMMEDIATE": True,
        })
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            write_key_check()
            db.session.commit()
            ensure_default_departments()
            archivist, _ = create_user(SYSTEM, username="analysers-archivist", display_name="档案员",
                                       department_code="GMO", roles={Role.ARCHIVIST}, clearance=Level.C,
                                       password="correct-horse-battery")
            ids = build_corpus(archivist)
            keys = {document_id: key for key, document_id in ids.items()}
            (work / "jieba").mkdir()
            ix = jieba_index(list(indexing.iter_entries()), work / "jieba")
            bigrams, jieba_words = Score(), Score()
            for item in DATA["queries"]:
                expected = set(item["expected"])
                page = search.search(archivist, search.SearchQuery(text=item["query"]), per_page=100)
                bigrams.add(item["query"], expected, {keys[hit.document.id] for hit in page.hits})
                jieba_words.add(item["query"], expected, {keys[i] for i in jieba_search(ix, item["query"])})
        queries = len(DATA["queries"])
        print(f"{queries} labelled queries over {len(DATA['documents'])} documents")
        for label, score in (("CJK bigrams", bigrams), ("jieba", jieba_words)):
            print(score.line(label, queries))
            if score.misses:
                print(f"    misses: {'; '.join(score.misses)}")
            if score.extras:
                print(f"    extra documents: {'; '.join(score.extras)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

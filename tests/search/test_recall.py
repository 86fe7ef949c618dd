"""Recall and precision on the labelled query set (tests/search/data/queries.json).

The corpus is 40 generated Chinese property papers (contracts, move-in forms, repair orders, judgments,
leases) across six units of two projects, filed as real PDFs through the real path: filing → text task →
index task (the queue in immediate mode). Each query's expected documents were labelled by word: a document
is relevant when it contains every query word (a number not glued to other digits: 3栋 is not in 13栋).
"""
from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from archive.auth import services as auth
from archive.core.enums import Category, CustomerKind, Level, OccupancyRole, Role
from archive.documents import services as documents
from archive.search import services as search
from archive.units import services as units
from tests.conftest import fresh_database, make_app, running
from tests.factories import Factory, make_pdf

DATA = json.loads((Path(__file__).parent / "data" / "queries.json").read_text(encoding="utf-8"))
# Measured with the bigram analyser on this set: 1.000 (253 of 253 found are relevant). A change that
# floods results fails here even if it still finds everything.
PRECISION_FLOOR = 0.95


def build_corpus(archivist) -> dict[str, int]:
    """File the corpus; returns document key -> id."""
    projects, dossiers = {}, {}
    for code, name in DATA["projects"].items():
        projects[code] = units.create_project(archivist, code, name, "深圳市")
    buildings: dict[tuple[str, str], int] = {}
    for key, spec in DATA["units"].items():
        building_key = (spec["project"], spec["building_code"])
        if building_key not in buildings:
            buildings[building_key] = units.add_building(
                archivist, projects[spec["project"]].id, spec["building_code"], spec["building"]).id
        (unit,) = units.add_units(archivist, buildings[building_key], [units.UnitSpec(spec["code"], spec["name"])])
        dossiers[key] = unit.dossier.id
        for name in spec["customers"]:
            kind = CustomerKind.COMPANY if name.endswith("公司") else CustomerKind.PERSON
            customer = units.register_customer(archivist, name, kind)
            units.add_occupancy(archivist, unit.dossier.id, customer.id, OccupancyRole.OWNER, date(2019, 1, 1))
    department = auth.department_by_code("GMO").id
    ids = {}
    for doc in DATA["documents"]:
        project_name = DATA["projects"][DATA["units"][doc["unit"]]["project"]]
        meta = documents.DocumentMetadata(
            category=Category(doc["category"]), title=doc["title"], responsible_party=f"{project_name}置业有限公司",
            doc_date=date.fromisoformat(doc["doc_date"]), department_id=department, level=Level.C,
        )
        (filed,) = documents.file_documents(
            archivist, dossiers[doc["unit"]], meta, [documents.Upload(f"{doc['key']}.pdf", io.BytesIO(make_pdf(*doc["lines"])))])
        ids[doc["key"]] = filed.id
    return ids


@pytest.fixture(scope="module")
def corpus(migrated_database, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recall")
    app = make_app(fresh_database(migrated_database, tmp), tmp / "storage", QUEUE_IMMEDIATE=True)
    with running(app):
        factory = Factory(app)
        ids = build_corpus(factory.archivist)
        reader = factory.user("recall-reader", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.C)
        yield app, ids, reader


def test_labelled_queries_find_every_expected_document(corpus, capsys):
    app, ids, reader = corpus
    assert len(DATA["queries"]) >= 40 and len(DATA["documents"]) >= 30
    names = {v: k for k, v in ids.items()}
    missed, found_total, relevant_found = [], 0, 0
    for item in DATA["queries"]:
        results = search.search(reader, search.SearchQuery(text=item["query"]), per_page=100)
        found = {names[hit.document.id] for hit in results.hits}
        assert results.total == len(found)
        expected = set(item["expected"])
        if expected - found:
            missed.append((item["query"], sorted(expected - found)))
        found_total += len(found)
        relevant_found += len(found & expected)
    precision = relevant_found / found_total
    with capsys.disabled():
        print(f"\nrecall set: {len(DATA['queries'])} queries, precision {precision:.3f} "
              f"({relevant_found} relevant of {found_total} found)")
    assert not missed, f"recall below 100%: {missed}"
    assert precision >= PRECISION_FLOOR

"""Searching by metadata, now the search page's advanced form (/find): each criterion, the policy filter on
results and totals, paging without per-row queries, and the old /search address leading there."""
from __future__ import annotations

import io
import re
from datetime import date
from functools import partial
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from archive.core.enums import Category, OccupancyRole
from archive.documents import services as documents
from archive.extensions import db
from archive.units import services as units
from tests.conftest import make_app, running
from tests.factories import login_in_english, make_image, make_pdf


@pytest.fixture
def app(database_url, tmp_path):
    """Tasks run at once: a filed document is in the search index when the filing returns."""
    with running(make_app(database_url, tmp_path / "storage", QUEUE_IMMEDIATE=True)) as app:
        yield app


def _found(response) -> tuple[int, list[int]]:
    """The total the page announces and the documents it links, in order."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    total = re.search(r'id="total">(\d+) documents? found', html)
    assert total, html
    return int(total.group(1)), [int(i) for i in re.findall(r'<td><a href="/documents/(\d+)">', html)]


@pytest.fixture
def archive(factory):
    """Two units of one project; 张三 owns 3栋2单元1502. Some documents the sales clerk may not read."""
    project = factory.project("LJY", "丽景苑")
    home = factory.dossier(project)
    other = factory.dossier(project, building="05", building_name="5栋", unit="1-0801", unit_name="1单元0801")
    customer = units.register_customer(factory.archivist, "张三", id_number="440301199001011234")
    units.add_occupancy(factory.archivist, home.id, customer.id, OccupancyRole.OWNER, date(2023, 5, 8))
    document = partial(factory.document, content=make_image("PNG", size=(20, 28)), filename="scan.png")
    docs = {
        "subscription": document(home, title="认购书", doc_date=date(2023, 5, 8)),
        "contract": document(home, title="房地产买卖合同", category="QY", doc_date=date(2023, 9, 1)),
        "queue": document(other, title="排号协议", doc_date=date(2022, 12, 1)),
        "scoped": document(home, title="认购书 律师意见", department="LEGAL", scope_departments=("SALES",),
                                   doc_date=date(2023, 6, 15)),
        "secret": document(home, title="认购书 优惠审批", level="B", doc_date=date(2023, 5, 20)),
        "finance": document(home, title="认购书 收款", department="FIN", doc_date=date(2023, 5, 21)),
    }
    return {name: doc.id for name, doc in docs.items()} | {"numbers": {d.id: d.archive_number for d in docs.values()}}


@pytest.mark.parametrize("query,expected", [
    ({"title": "认购书"}, ["scoped", "subscription"]),
    ({"customer": "张三"}, ["contract", "scoped", "subscription"]),
    ({"unit": "3栋2单元1502"}, ["contract", "scoped", "subscription"]),
    ({"unit": "1单元0801"}, ["queue"]),
    ({"category": "QY"}, ["contract"]),
    ({"date_from": "2023-05-01", "date_to": "2023-06-30"}, ["scoped", "subscription"]),
    ({"date_from": "2023-07-01"}, ["contract"]),
    ({"title": "认购书", "category": "QY"}, []),
    ({"q": ""}, ["contract", "scoped", "subscription", "queue"]),  # the form sent empty: everything readable
], ids=lambda v: str(v) if not isinstance(v, dict) else "&".join(f"{k}={v}" for k, v in v.items()))
def test_search_finds_only_what_the_user_may_read(client, factory, clerk, archive, query, expected):
    login_in_english(client, factory, clerk)
    total, ids = _found(client.get("/find", query_string=query))
    assert ids == [archive[name] for name in expected]  # newest first
    assert total == len(expected)


def test_search_by_archive_number(client, factory, clerk, archive):
    login_in_english(client, factory, clerk)
    number = archive["numbers"][archive["contract"]]
    assert _found(client.get("/find", query_string={"archive_number": number})) == (1, [archive["contract"]])
    hidden = archive["numbers"][archive["secret"]]
    assert _found(client.get("/find", query_string={"archive_number": hidden})) == (0, [])
    # A number prefix finds the dossier's readable documents; the hidden ones are not even counted.
    prefix = number.rsplit("-", 2)[0]
    assert _found(client.get("/find", query_string={"archive_number": prefix}))[0] == 3


def test_metadata_criteria_and_words_combine(client, factory, clerk, archive):
    login_in_english(client, factory, clerk)
    # Words (here the title's, which is indexed too) and a criterion of the advanced form, both required.
    total, ids = _found(client.get("/find", query_string={"q": "认购书", "unit": "3栋2单元1502"}))
    assert (total, set(ids)) == (2, {archive["scoped"], archive["subscription"]})
    assert _found(client.get("/find", query_string={"q": "认购书", "unit": "1单元0801"})) == (0, [])


def test_search_shows_the_unit_category_and_level(client, factory, clerk, archive):
    login_in_english(client, factory, clerk)
    html = client.get("/find", query_string={"category": "QY"}).get_data(as_text=True)
    row = html.split('<table class="results">')[1]
    for text in (archive["numbers"][archive["contract"]], "房地产买卖合同", "3栋2单元1502", "Contract 签约资料",
                 "2023-09-01", 'class="badge level-C"'):
        assert text in row, text
    assert 'value="QY" selected' in html or '<option selected value="QY">' in html


def test_wider_clearance_and_roles_see_more(client, factory, archive):
    archivist = factory.user("archivist-b", roles=("archivist",), department="GMO", clearance="B")
    login_in_english(client, factory, archivist)
    total, ids = _found(client.get("/find", query_string={"title": "认购书"}))
    assert total == 4 and archive["secret"] in ids and archive["finance"] in ids


def test_a_bad_date_is_explained(client, factory, clerk):
    login_in_english(client, factory, clerk)
    response = client.get("/find", query_string={"date_from": "2023-13-45"})
    assert response.status_code == 200
    assert "Not a valid date value." in response.get_data(as_text=True)
    assert 'id="total"' not in response.get_data(as_text=True)


def test_the_administrator_does_not_search_documents(client, factory, archive):
    admin = factory.user("admin-1", roles=("admin",), department="GMO", clearance="A")
    login_in_english(client, factory, admin)
    assert client.get("/find", query_string={"title": "认购书"}).status_code == 403
    assert client.get("/search", query_string={"title": "认购书"}).status_code == 403


def test_the_old_metadata_search_address_leads_to_the_search_page(client, factory, clerk, archive):
    login_in_english(client, factory, clerk)
    query = {"archive_number": "QZ01", "title": "认购书", "customer": "张三", "unit": "3栋2单元1502",
             "category": "XS", "date_from": "2023-05-01", "date_to": "2023-06-30", "page": "1"}
    response = client.get("/search", query_string=query)
    assert response.status_code == 301
    location = urlsplit(response.headers["Location"])
    assert location.path == "/find"
    assert {name: values[0] for name, values in parse_qs(location.query).items()} == query
    total, ids = _found(client.get(response.headers["Location"]))
    assert (total, set(ids)) == (2, {archive["scoped"], archive["subscription"]})


def _count_statements(client, query: dict) -> tuple[int, list[int], int, str]:
    statements = []

    def count(*args) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/find", query_string=query)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    total, ids = _found(response)
    return total, ids, len(statements), response.get_data(as_text=True)


def test_120_documents_page_20_at_a_time_in_a_fixed_number_of_queries(app, client, factory, clerk):
    """Filed through the real service (40 small PDFs per call) into one dossier, plus a few in two neighbours
    so that a page shows rows of several units. (PDFs with a text layer: 130 scans would each wait for OCR.)"""
    project = factory.project()
    dossier = factory.dossier(project)
    neighbours = [factory.dossier(project, unit=f"2-150{i}", unit_name=f"2单元150{i}") for i in (3, 4)]
    paper = make_pdf("维修单", "本文件由置业公司档案室归档保存，仅供经授权的人员在工作需要时查阅使用。")
    meta = documents.DocumentMetadata(category=Category.WX, title="维修单", responsible_party="客户服务中心",
                                      doc_date=date(2024, 3, 1), department_id=clerk.department_id)

    def file(target, count: int) -> None:
        uploads = [documents.Upload(f"维修单-{i}.pdf", io.BytesIO(paper)) for i in range(count)]
        documents.file_documents(factory.archivist, target.id, meta, uploads)

    for _batch in range(3):
        file(dossier, 40)
    for neighbour in neighbours:
        file(neighbour, 5)
    login_in_english(client, factory, clerk)

    pages = [_count_statements(client, {"unit": "3栋2单元1502", "page": page}) for page in (1, 2, 6)]
    assert [len(ids) for _total, ids, _count, _html in pages] == [20, 20, 20]
    assert {total for total, _ids, _count, _html in pages} == {120}
    assert len({i for _total, ids, _count, _html in pages for i in ids}) == 60
    assert pages[0][2] == pages[2][2] <= 20  # a small constant, whatever the number of rows
    assert "page=2" in pages[0][3] and "unit=3%E6%A0%8B2%E5%8D%95%E5%85%831502" in pages[0][3]

    # Newest first: the neighbours' rows lead the first page; three units, no query more.
    first, last = (_count_statements(client, {"title": "维修单", "page": page}) for page in (1, 7))
    assert first[0] == 130 and {"2单元1503", "2单元1504"} <= set(re.findall(r"3栋(2单元150\d)", first[3]))
    assert first[2] == last[2]

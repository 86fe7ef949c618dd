"""The search page, its query syntax, snippets, facets, paging, audit, autocomplete and the CLI.

The app fixture (tests/search/conftest.py) runs tasks at once: filing → text → index, the real path.
"""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Category, Level, Role
from archive.extensions import db
from tests.factories import make_pdf

# Long enough for the PDF's text layer to be used (a page with a few characters only is read by OCR).
FILLER = "本文件由置业公司档案室归档保存，仅供经授权的人员在工作需要时查阅使用。"


@pytest.fixture
def papers(factory):
    """Three documents of one unit, and one of another department at a higher level."""
    dossier = factory.dossier()
    contract = factory.document(dossier, category=Category.QY, title="商品房买卖合同", doc_date=date(2021, 3, 1),
                                content=make_pdf("合同编号HT-2023-0158", "买受人张伟购买3栋2单元1502，退还押金人民币5000元。", FILLER))
    repair = factory.document(dossier, category=Category.WX, title="维修工单", doc_date=date(2023, 6, 1),
                              content=make_pdf("业主报修：卫生间天花板漏水，维修班组更换防水层。", FILLER))
    receipt = factory.document(dossier, category=Category.RH, title="入伙交接单", doc_date=date(2022, 1, 5),
                               content=make_pdf("业主交纳装修押金人民币3000元，领取钥匙两把。", FILLER))
    secret = factory.document(dossier, category=Category.SS, title="和解协议", department="FIN", level=Level.B,
                              content=make_pdf("双方就漏水赔偿达成和解，押金全额退还。", FILLER))
    return dossier, contract, repair, receipt, secret


def _find(client, **args):
    response = client.get("/find", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _total(html: str) -> int:
    return int(re.search(r'id="total">\D*(\d+)', html).group(1))


def _linked(html: str, *docs) -> list[bool]:
    return [f'href="/documents/{doc.id}"' in html for doc in docs]


def test_words_phrases_and_operators(client, factory, papers):
    _, contract, repair, receipt, secret = papers
    clerk = factory.user("clerk", roles=(Role.CLERK,), department="SALES")
    factory.login(client, clerk)
    docs = (contract, repair, receipt, secret)
    assert _linked(_find(client, q="押金"), *docs) == [True, False, True, False]  # the B/FIN one is not theirs
    assert _linked(_find(client, q="押金 钥匙"), *docs) == [False, False, True, False]
    assert _linked(_find(client, q="钥匙 OR 漏水"), *docs) == [False, True, True, False]
    assert _linked(_find(client, q="押金 -钥匙"), *docs) == [True, False, False, False]
    assert _linked(_find(client, q="押金 NOT 钥匙"), *docs) == [True, False, False, False]
    assert _linked(_find(client, q='"退还押金"'), *docs) == [True, False, False, False]
    assert _linked(_find(client, q='"押金退还"'), *docs) == [False, False, False, False]
    assert _linked(_find(client, q="HT-2023-0158"), *docs) == [True, False, False, False]
    assert _linked(_find(client, q="0158"), *docs) == [True, False, False, False]
    assert _linked(_find(client, q="3栋2单元1502"), *docs) == [True, True, True, False]  # the unit is metadata too
    assert _linked(_find(client, q="13栋"), *docs) == [False, False, False, False]
    assert _linked(_find(client, q="title:维修"), *docs) == [False, True, False, False]


def test_results_show_snippets_facets_and_are_audited(client, factory, papers):
    _, contract, repair, receipt, _secret = papers
    clerk = factory.user("clerk", roles=(Role.CLERK,), department="SALES")
    factory.login(client, clerk)
    html = _find(client, q="押金")
    assert _total(html) == 2
    assert "退还<mark>押金</mark>人民币" in html
    assert contract.archive_number in html and "3栋2单元1502" in html
    # Facets count the visible results only: one contract, one move-in form, no litigation.
    assert 'category=QY' in html and 'category=RH' in html and 'category=SS' not in html
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "search.fulltext")).all()
    assert len(events) == 1
    assert json.loads(events[0].details)["query"] == "押金"
    assert json.loads(events[0].details)["results"] == 2


def test_filters_sorting_and_paging(client, factory, papers):
    dossier, contract, repair, receipt, _secret = papers
    archivist = factory.user("arch", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.B)
    factory.login(client, archivist)
    html = _find(client, q="业主", category="WX")
    assert _linked(html, contract, repair, receipt) == [False, True, False]
    html = _find(client, q="押金", date_from="2022-01-01", date_to="2022-12-31")
    assert _linked(html, contract, receipt) == [False, True]
    html = _find(client, q="押金", level="B")
    assert _linked(html, contract, receipt, _secret) == [False, False, True]
    html = _find(client, category="QY")  # filters alone, no words
    assert _linked(html, contract, repair) == [True, False]
    newest_first = _find(client, q="3栋2单元1502", sort="date")
    positions = [newest_first.index(f'href="/documents/{d.id}"') for d in (repair, receipt, contract)]
    assert positions == sorted(positions)
    first = client.get("/find", query_string={"q": "3栋2单元1502", "sort": "date", "page": 2})
    # 20 per page: four documents fit on one page; page 2 is empty but says the same total.
    assert 'href="/documents/' not in first.get_data(as_text=True)


def test_autocomplete_suggests_only_what_the_reader_may_read(client, factory, papers):
    _, contract, _repair, _receipt, secret = papers
    clerk = factory.user("clerk", roles=(Role.CLERK,), department="SALES")
    factory.login(client, clerk)
    texts = [s["text"] for s in client.get("/find/suggest", query_string={"q": "和解"}).get_json()]
    assert texts == []
    texts = [s["text"] for s in client.get("/find/suggest", query_string={"q": "商品房"}).get_json()]
    assert texts == ["商品房买卖合同"]
    numbers = client.get("/find/suggest", query_string={"q": contract.archive_number[:-2]}).get_json()
    assert contract.archive_number in [s["text"] for s in numbers]
    assert secret.archive_number not in [s["text"] for s in numbers]


def test_cli_search_as_a_user(app, factory, papers):
    _, contract, _repair, receipt, secret = papers
    factory.user("clerk", roles=(Role.CLERK,), department="SALES")
    result = app.test_cli_runner().invoke(args=["search", "押金", "--user", "clerk", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["total"] == 2
    assert {r["archive_number"] for r in answer["results"]} == {contract.archive_number, receipt.archive_number}
    assert "押金" in answer["results"][0]["snippet"]
    refused = app.test_cli_runner().invoke(args=["search", "押金", "--user", "nobody"])
    assert refused.exit_code == 1


def test_level_a_content_stays_out_of_the_index_unless_configured(app, client, factory):
    dossier = factory.dossier()
    doc = factory.document(dossier, level=Level.A, title="董事会决议", content=make_pdf("机密收购价款人民币九亿元", FILLER))
    head = factory.user("head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    factory.login(client, head)
    assert _linked(_find(client, q="收购"), doc) == [False]
    assert _linked(_find(client, q="董事会"), doc) == [True]  # metadata is indexed
    app.config["INDEX_LEVEL_A_CONTENT"] = True
    from archive.search.indexing import index_now

    index_now(doc.id)
    assert _linked(_find(client, q="收购"), doc) == [True]


def test_a_new_owner_finds_the_papers_filed_before_they_came(app, factory):
    """Owners and tenants are part of each entry: an occupancy change reindexes the unit's documents."""
    from archive.core.enums import OccupancyRole
    from archive.search import services as search
    from archive.units import services as units

    dossier = factory.dossier()
    doc = factory.document(dossier, title="房地产买卖合同", content=make_pdf("房地产买卖合同", FILLER))
    reader = factory.user("gmo-reader", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.C)
    assert search.search(reader, search.SearchQuery(text="司马光")).total == 0

    owner = units.register_customer(factory.archivist, "司马光", id_number="110101199001011234")
    occupancy = units.add_occupancy(factory.archivist, dossier.id, owner.id, OccupancyRole.OWNER, date(2024, 1, 1))
    assert [hit.document.id for hit in search.search(reader, search.SearchQuery(text="司马光")).hits] == [doc.id]

    units.end_occupancy(factory.archivist, occupancy.id, date(2025, 6, 30))
    # A former owner's name still finds the old papers.
    assert search.search(reader, search.SearchQuery(text="司马光")).total == 1


def test_many_candidates_are_checked_in_one_pass_with_the_same_answer(client, factory, papers, monkeypatch):
    """Above WHOLE_TABLE_SHARE of the indexed documents as candidates, the policy is asked once for every
    readable id (in another thread, while the index works) instead of about each candidate: what is found,
    counted and faceted is the same."""
    from archive.search import services as search

    _, contract, repair, receipt, secret = papers
    clerk = factory.user("clerk", roles=(Role.CLERK,), department="SALES")
    archivist = factory.user("arch", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.B)
    queries = [search.SearchQuery(text=text) for text in ("押金", "漏水", "押金 OR 漏水", "-押金")]
    queries.append(search.SearchQuery(category=Category.WX))

    def answers():
        return [(page.total, [hit.document.id for hit in page.hits],
                 {name: [(f.value, f.count) for f in facets] for name, facets in page.facets.items()})
                for reader in (clerk, archivist) for page in (search.search(reader, q) for q in queries)]

    monkeypatch.setattr(search, "WHOLE_TABLE_SHARE", 1.0)  # never more candidates than documents
    by_id = answers()
    monkeypatch.setattr(search, "WHOLE_TABLE_SHARE", 0)
    assert answers() == by_id
    assert by_id[0][0] == 2 and secret.id not in by_id[0][1]  # the clerk's 押金: not the FIN/B paper

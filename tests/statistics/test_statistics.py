"""The statistics page: each figure counts only what the viewer may see; CSV and chart carry the same figures."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from archive.core.enums import Category, Level, Role
from archive.documents.models import Document
from archive.extensions import db
from archive.handovers.deadlines import ensure_default_rules
from archive.loans import services as loans
from archive.retention import services as retention
from tests.factories import signed_in


@pytest.fixture
def holdings(factory):
    """In 丽景苑: two C and one B sales documents, one C repair order of the customer service centre."""
    project = factory.project("LJY", "丽景苑")
    dossier = factory.dossier(project)
    for title in ("认购书 张伟", "排号协议 张伟"):
        factory.document(dossier, department="SALES", title=title, doc_date=date(2026, 3, 2))
    factory.document(dossier, department="SALES", title="优惠审批表", level=Level.B, doc_date=date(2026, 3, 2))
    factory.document(dossier, department="CSC", category=Category.WX, title="维修工单 漏水",
                     doc_date=date(2026, 2, 2))
    return project


def _csv(client, name: str, query: str = "") -> list[list[str]]:
    answer = client.get(f"/statistics/{name}.csv{query}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese
    return list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))


def _page_rows(page: str, name: str) -> list[list[str]]:
    """The body and total rows of one figure's table on the page, as text."""
    section = page[page.index(f'id="{name}"'):]
    table = section[section.index("<table>"):section.index("</table>")]
    return [[html.unescape(cell) for cell in re.findall(r"<t[dh]>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_holdings_count_only_the_documents_the_viewer_may_read(app, factory, holdings):
    c_clerk = factory.user("sales-li", department="SALES", clearance=Level.C)
    b_clerk = factory.user("sales-zhao", department="SALES", clearance=Level.B)
    officer = factory.user("audit-qian", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.A)

    c_levels = _csv(signed_in(app, factory, c_clerk), "holdings-level")
    assert c_levels == [["Code", "Classification level", "Documents"], ["C", "C 内部", "2"], ["", "Total", "2"]]
    b_levels = _csv(signed_in(app, factory, b_clerk), "holdings-level")
    assert b_levels[1:] == [["C", "C 内部", "2"], ["B", "B 普通商密", "1"], ["", "Total", "3"]]

    officer_client = signed_in(app, factory, officer)
    assert _csv(officer_client, "holdings-project")[1:] == [["LJY", "丽景苑", "4"], ["", "Total", "4"]]
    categories = _csv(officer_client, "holdings-category")
    assert categories[1:] == [["XS", "Sales 销售资料", "3"], ["WX", "Repair 维修资料", "1"], ["", "Total", "4"]]
    # The page shows the same rows as the export.
    page = officer_client.get("/statistics/").get_data(as_text=True)
    assert _page_rows(page, "holdings-category") == categories


def test_the_charts_are_svg_drawn_on_the_server_with_the_chinese_labels(app, factory, holdings):
    clerk = factory.user("sales-zhao", department="SALES", clearance=Level.B)
    client = signed_in(app, factory, clerk, english=False)

    page = client.get("/statistics/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
    assert '<img class="chart" src="/statistics/holdings-project.svg?start=' in page
    assert "丽景苑" in page and "销售资料" in page

    chart = client.get("/statistics/holdings-category.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    drawing = chart.get_data(as_text=True)
    assert drawing.startswith("<svg") and "<script" not in drawing
    assert "销售资料" in drawing and "维修资料" not in drawing  # CSC's repair order is not the clerk's to see
    assert "WenQuanYi Zen Hei" in drawing  # drawn in the page's CJK fonts
    assert "丽景苑" in client.get("/statistics/holdings-project.svg").get_data(as_text=True)


def test_handover_and_loan_figures_follow_the_pages_they_come_from(app, factory, holdings):
    ensure_default_rules()
    clerk = factory.user("sales-li", department="SALES", clearance=Level.B)
    officer = factory.user("audit-qian", roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.A)
    borrower = factory.user("csc-wang", department="CSC")
    factory.user("sales-head", roles=(Role.DEPT_HEAD,), department="SALES")
    lent = db.session.scalars(sa.select(Document).where(Document.title == "认购书 张伟")).one()
    draft = loans.add_documents(borrower, [lent.id])
    today = loans.local_today()
    loans.submit(borrower, draft.id, purpose="核对", use=loans.LoanUse.VIEW, start_date=today,
                 due_date=today + timedelta(days=2))

    since_2026 = f"?start=2026-01-01&end={today.isoformat()}"  # the documents fell due in March 2026
    officer_client = signed_in(app, factory, officer)
    assert _csv(officer_client, "loans", since_2026)[1:] == [["客户服务中心", "1", "0", "0", "0"],
                                                             ["Total", "1", "0", "0", "0"]]
    handed = _csv(officer_client, "handovers", since_2026)
    assert {row[0] for row in handed[1:]} == {"项目销售组", "客户服务中心"}
    assert ["项目销售组", "2026-03", "3", "0", "0.0"] in handed

    clerk_client = signed_in(app, factory, clerk)
    # A clerk's handover figures are their department's only; loan statistics are not theirs to see.
    assert {row[0] for row in _csv(clerk_client, "handovers", since_2026)[1:]} == {"项目销售组"}
    page = clerk_client.get("/statistics/").get_data(as_text=True)
    assert "Handovers on time by department and month" in page
    assert "Loans and overdue by department" not in page and "Disposals by year" not in page
    assert clerk_client.get("/statistics/loans.csv").status_code == 403
    assert clerk_client.get("/statistics/disposals.svg").status_code == 403
    assert clerk_client.get("/statistics/nothing.csv").status_code == 404


def test_the_administrator_has_no_statistics(app, factory):
    admin = factory.user("admin2", roles=(Role.ADMIN,), department="GMO")
    client = signed_in(app, factory, admin)
    assert client.get("/statistics/").status_code == 403
    assert client.get("/statistics/holdings-level.csv").status_code == 403


def test_disposals_by_year_count_what_the_viewer_is_cleared_for(app, factory):
    def make(name, role, clearance=Level.A):
        return factory.user(name, roles=(role,), department="GMO", clearance=clearance)

    archivist, head, officer = make("gmo-sun", Role.ARCHIVIST), make("gmo-head", Role.ARCHIVE_HEAD), \
        make("audit-qian", Role.COMPLIANCE)
    second, low = make("gmo-zhou", Role.ARCHIVIST), make("gmo-li", Role.ARCHIVIST, Level.C)
    expired = factory.document(factory.dossier(), department="CSC", category=Category.WX, level=Level.B,
                               title="维修工单 赔付", doc_date=date(2012, 3, 5))
    disposal = retention.propose_disposal(archivist, [expired.id], "保管期满，经鉴定无保存价值")
    retention.approve_disposal(head, disposal.id)
    retention.confirm_witness(officer, disposal.id)
    retention.confirm_witness(second, disposal.id)
    year = str(loans.local_today().year)

    assert _csv(signed_in(app, factory, officer), "disposals")[1:] == [[year, "1", "1"], ["Total", "1", "1"]]
    # The C-cleared archivist does not see the B-level disposal at all, nor count it.
    assert _csv(signed_in(app, factory, low), "disposals")[1:] == [["Total", "0", "0"]]
    # Destroyed documents are no longer holdings.
    assert _csv(signed_in(app, factory, officer), "holdings-level")[-1] == ["", "Total", "0"]


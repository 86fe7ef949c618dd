"""The dossier page: unit, customers over time, cross-references, and the documents the reader may see."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Category, Level, LinkReason, Role
from archive.extensions import db
from archive.units.models import Customer, Dossier, Occupancy
from archive.units.services import link_dossiers
from tests.factories import login_in_english
from tests.units.helpers import archivist, log_out, post_form

ID_NUMBER, PHONE = "440305199001011234", "138 1234 5678"


def add_holder(client, dossier_id: int, **fields):
    page = f"/dossiers/{dossier_id}"
    values = {"name": "张三", "kind": "person", "id_number": "", "phone": "", "role": "owner", "start": "2020-01-15"}
    return post_form(client, page, f"{page}/holders", "holder", **{**values, **fields})


def text_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_customer_is_shown_masked_and_stored_without_plaintext(client, factory):
    dossier = factory.dossier()
    login_in_english(client, factory, archivist(factory))

    response = add_holder(client, dossier.id, id_number=ID_NUMBER, phone=PHONE)

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "张三 is registered and recorded as Owner 业主." in page
    assert "4403**********1234" in page and "138****5678" in page
    assert ID_NUMBER not in page and "13812345678" not in page and "19900101" not in page
    rows = db.session.execute(sa.text("SELECT * FROM customers")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert "张三" in stored  # the query does see the customer row...
    assert ID_NUMBER not in stored and "19900101" not in stored and "13812345678" not in stored  # ...but no secret


def test_occupancy_history_keeps_who_held_the_unit_from_when_to_when(client, factory):
    dossier = factory.dossier()
    login_in_english(client, factory, archivist(factory))
    assert add_holder(client, dossier.id, name="张三", start="2020-01-15").status_code == 302
    owner = db.session.scalar(sa.select(Occupancy))
    page = f"/dossiers/{dossier.id}"
    end_action = f"{page}/occupancies/{owner.id}/end"

    too_early = post_form(client, page, end_action, "end", end="2019-12-31")
    assert too_early.status_code == 400
    assert "The end date is before the start date." in too_early.get_data(as_text=True)

    assert post_form(client, page, end_action, "end", end="2023-06-30").status_code == 302
    assert add_holder(client, dossier.id, name="深圳市星河贸易有限公司", kind="company", role="tenant",
                      start="2023-07-01").status_code == 302

    html = text_of(client, page)
    tenant_row = re.search(r"<tr>\s*<td>深圳市星河贸易有限公司</td>(.*?)</tr>", html, re.S).group(1)
    owner_row = re.search(r"<tr>\s*<td>张三</td>(.*?)</tr>", html, re.S).group(1)
    assert "Company" in tenant_row and "Tenant 租户" in tenant_row and "2023-07-01" in tenant_row
    assert "Current; ends on" in tenant_row  # still renting: it can be ended
    assert "Person" in owner_row and "Owner 业主" in owner_row
    assert "2020-01-15" in owner_row and "2023-06-30" in owner_row and "Current; ends on" not in owner_row
    assert html.index("深圳市星河贸易有限公司") < html.index("<td>张三</td>")  # newest first
    assert db.session.get(Occupancy, owner.id).end_date == date(2023, 6, 30)


def test_a_known_id_number_reuses_the_customer_and_links_their_dossiers_both_ways(client, factory):
    project = factory.project()
    first = factory.dossier(project, unit="2-1501", unit_name="2单元1501")
    second = factory.dossier(project, unit="2-1502", unit_name="2单元1502")
    login_in_english(client, factory, archivist(factory))
    assert add_holder(client, first.id, id_number=ID_NUMBER).status_code == 302

    response = add_holder(client, second.id, name="张三 (typed again)", id_number="4403 0519 9001 0112 34")

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The ID number belongs to the registered customer 张三, who is now recorded as Owner 业主." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
    for here, there in ((first, second), (second, first)):
        html = text_of(client, f"/dossiers/{here.id}")
        assert re.search(rf'href="/dossiers/{there.id}">{there.archive_number}</a>.*?Same customer', html, re.S)

    again = add_holder(client, second.id, id_number=ID_NUMBER)
    assert again.status_code == 409
    assert "张三 is already a current holder of this unit." in again.get_data(as_text=True)


def test_dossiers_are_linked_by_archive_number(client, factory):
    project = factory.project()
    first = factory.dossier(project, unit="2-1501", unit_name="2单元1501")
    second = factory.dossier(project, unit="S-101", unit_name="101商铺")
    login_in_english(client, factory, archivist(factory))
    page = f"/dossiers/{first.id}"

    unknown = post_form(client, page, f"{page}/links", "link", archive_number="QZ01-NOPE-1", reason="other",
                        note="同一租户")
    assert unknown.status_code == 400
    html = unknown.get_data(as_text=True)
    assert "No dossier has the archive number QZ01-NOPE-1." in html
    assert 'value="QZ01-NOPE-1"' in html and 'value="同一租户"' in html  # nothing typed is lost

    linked = post_form(client, page, f"{page}/links", "link", archive_number=second.archive_number, reason="other",
                       note="同一租户")
    assert linked.status_code == 302
    for here, there in ((first, second), (second, first)):
        html = text_of(client, f"/dossiers/{here.id}")
        assert re.search(rf'{there.archive_number}</a>.*?Related.*?同一租户', html, re.S)

    twice = post_form(client, f"/dossiers/{second.id}", f"/dossiers/{second.id}/links", "link",
                      archive_number=first.archive_number, reason="same_customer")
    assert twice.status_code == 409
    assert "These dossiers already refer to each other." in twice.get_data(as_text=True)


def test_litigation_file_is_cross_referenced_both_ways(client, factory):
    dossier = factory.dossier(factory.project("LJY"))
    login_in_english(client, factory, archivist(factory))
    page = f"/dossiers/{dossier.id}"

    response = post_form(client, page, f"{page}/litigation", "litigation", title="张三诉丽景苑置业有限公司房屋买卖合同纠纷")

    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Litigation file QZ01-LJY-SS-0001 is created and cross-referenced with this dossier." in html
    litigation = db.session.scalar(sa.select(Dossier).where(Dossier.archive_number == "QZ01-LJY-SS-0001"))
    assert re.search(rf'href="/dossiers/{litigation.id}">QZ01-LJY-SS-0001</a>.*?Litigation file', html, re.S)
    back = text_of(client, f"/dossiers/{litigation.id}")
    assert re.search(rf'href="/dossiers/{dossier.id}">{dossier.archive_number}</a>.*?Litigation file', back, re.S)
    assert "张三诉丽景苑置业有限公司房屋买卖合同纠纷" in back
    assert "Customers over time" not in back  # a litigation file has no unit of its own


def test_page_lists_and_counts_only_documents_the_reader_may_read(client, factory):
    dossier = factory.dossier()
    sales_c = factory.document(dossier, title="认购书", department="SALES", level=Level.C)
    sales_b = factory.document(dossier, title="优惠审批表", department="SALES", level=Level.B)
    finance_c = factory.document(dossier, title="收款收据", department="FIN", level=Level.C)
    archive_a = factory.document(dossier, title="核心商密协议", department="GMO", level=Level.A)
    clerk = factory.user(roles=(Role.CLERK,), department="SALES", clearance=Level.C)

    login_in_english(client, factory, clerk)
    html = text_of(client, f"/dossiers/{dossier.id}")
    assert sales_c.archive_number in html and "认购书" in html
    for hidden in (sales_b, finance_c, archive_a):
        assert hidden.archive_number not in html and hidden.title not in html
    assert "1 document<" in html

    log_out(client)
    login_in_english(client, factory, archivist(factory, Level.B))
    html = text_of(client, f"/dossiers/{dossier.id}")
    for shown in (sales_c, sales_b, finance_c):
        assert shown.archive_number in html
    assert archive_a.archive_number not in html and "核心商密协议" not in html
    assert "3 documents<" in html


def test_documents_are_grouped_by_category_newest_first_with_their_metadata_and_paged(app, client, factory):
    dossier = factory.dossier()
    factory.document(dossier, category=Category.XS, title="排号协议", doc_date=date(2021, 3, 1))
    factory.document(dossier, category=Category.WX, title="维修单", doc_date=date(2024, 1, 9),
                     department="CSC")
    factory.document(dossier, category=Category.QY, title="房地产买卖合同", doc_date=date(2022, 6, 1),
                     department="CA", level=Level.B)
    newest_sale = factory.document(dossier, category=Category.XS, title="认购书", doc_date=date(2022, 5, 8))
    login_in_english(client, factory, archivist(factory))

    html = text_of(client, f"/dossiers/{dossier.id}")
    order = [html.index(s) for s in ("<h3>Sales 销售资料</h3>", "认购书", "排号协议", "<h3>Contract 签约资料</h3>",
                                      "房地产买卖合同", "<h3>Repair 维修资料</h3>", "维修单")]
    assert order == sorted(order)
    row = re.search(rf'<tr>\s*<td><a href="/documents/{newest_sale.id}">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", "<td>" + row, re.S)]
    assert cells == [newest_sale.archive_number, "认购书", "2022-05-08", "丽景苑置业有限公司", "项目销售组", "C 内部", "1",
                     "Original", "Electronic"]
    assert '<span class="badge level-B">' in html

    app.config["PAGE_SIZE"] = 2
    first, second = text_of(client, f"/dossiers/{dossier.id}"), text_of(client, f"/dossiers/{dossier.id}?page=2")
    assert "排号协议" in first and "房地产买卖合同" not in first and "Page 1 of 2" in first
    assert "房地产买卖合同" in second and "维修单" in second and "排号协议" not in second
    assert "4 documents<" in second


def test_file_documents_button_only_for_those_who_file(client, factory):
    dossier = factory.dossier()
    upload_link = f'href="/dossiers/{dossier.id}/upload"'
    login_in_english(client, factory, archivist(factory))
    assert upload_link in text_of(client, f"/dossiers/{dossier.id}")

    compliance = factory.user(roles=(Role.COMPLIANCE,), department="GMO", clearance=Level.A)
    log_out(client)
    login_in_english(client, factory, compliance)
    html = text_of(client, f"/dossiers/{dossier.id}")
    assert upload_link not in html and "Add an owner or tenant" not in html and "Open a litigation file" not in html


def test_a_clerk_records_holders_but_cannot_link_dossiers(client, factory):
    project = factory.project()
    dossier = factory.dossier(project, unit="2-1501")
    other = factory.dossier(project, unit="2-1502")
    login_in_english(client, factory, factory.user(roles=(Role.CLERK,), department="SALES"))
    page = f"/dossiers/{dossier.id}"
    html = text_of(client, page)
    assert "Add an owner or tenant" in html and "Refer to another dossier" not in html

    assert add_holder(client, dossier.id).status_code == 302
    refused = post_form(client, page, f"{page}/links", "link", archive_number=other.archive_number, reason="other")
    assert refused.status_code == 404
    assert post_form(client, page, f"{page}/litigation", "litigation", title="纠纷").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 2


def test_viewing_a_dossier_is_audited(client, factory):
    dossier = factory.dossier()
    reader = archivist(factory)
    login_in_english(client, factory, reader)
    text_of(client, f"/dossiers/{dossier.id}")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "dossier.view"))
    assert event.actor_name == reader.username and event.object_id == str(dossier.id)
    assert dossier.archive_number in event.details


def test_administrator_and_anonymous_users_see_no_dossiers(client, factory):
    dossier = factory.dossier()
    for path in ("/dossiers", f"/dossiers/{dossier.id}", "/projects"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    admin = factory.user(roles=(Role.ADMIN,), department="GMO", clearance=Level.A)
    login_in_english(client, factory, admin)
    assert client.get("/dossiers").status_code == 403
    assert client.get(f"/dossiers/{dossier.id}").status_code == 404
    assert client.get("/dossiers/999999").status_code == 404


def test_dossier_page_makes_no_query_per_document_or_cross_reference(client, factory):
    project = factory.project()
    dossier = factory.dossier(project, unit="2-1501")
    reader = archivist(factory)

    def statements_for_the_page() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/dossiers/{dossier.id}").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    factory.document(dossier, department="SALES")
    login_in_english(client, factory, reader)
    few = statements_for_the_page()
    for n, department in enumerate(["SALES", "FIN", "CA", "CSC", "LEGAL", "GMO"] * 2):
        factory.document(dossier, department=department, category=list(Category)[n % 9], title=f"文件{n}")
    for unit in ("2-1502", "2-1503", "2-1504"):
        link_dossiers(factory.archivist, dossier.id, factory.dossier(project, unit=unit).id, LinkReason.OTHER)
    many = statements_for_the_page()

    html = client.get(f"/dossiers/{dossier.id}").get_data(as_text=True)
    assert "13 documents<" in html and html.count("<td>Related</td>") == 3
    assert many == few


def test_an_id_too_large_for_the_database_is_simply_not_found(client, factory):
    factory.login(client, archivist(factory))
    for path in ("/dossiers/99999999999", "/documents/2147483648", "/dossiers/2147483648/catalogue.pdf"):
        assert client.get(path).status_code == 404, path

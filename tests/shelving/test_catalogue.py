"""The catalogue (卷内目录) of a dossier or of a departed customer's closed volume, printed as PDF: the DA/T 22
columns, a header naming the dossier, unit and customers, numbered pages, and only what the printer may read."""
from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from PIL import Image

from archive.core.enums import Category, Level, Role
from archive.core.types import utcnow

from .conftest import audit_events, holder, logged_in, paper, pdf_pages, render_png, squeeze

COLUMNS = ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注")
LOOK_AT = "/tmp/shelving-catalogue.png"  # kept for a human to look at


def catalogue(client, dossier, volume=None) -> tuple[int, list[str]]:
    url = f"/dossiers/{dossier.id}/catalogue.pdf" + (f"?volume={volume.id}" if volume else "")
    response = client.get(url)
    if response.status_code != 200:
        return response.status_code, []
    assert response.mimetype == "application/pdf"
    return 200, pdf_pages(response.get_data())


def test_the_catalogue_has_the_da_t_22_columns_and_lists_only_what_the_printer_may_read(
        app, factory, archivist, c_archivist):
    dossier = factory.dossier()
    holder(factory, dossier, "陈美玲", date(2023, 5, 8))
    subscription = paper(factory, dossier, "认购书", doc_number="LJY-RG-2023-0158", doc_date=date(2023, 5, 8),
                         pages=3)
    discount = paper(factory, dossier, "特殊折扣审批表", level=Level.B, doc_date=date(2023, 5, 6))
    contract = paper(factory, dossier, "商品房买卖合同", category=Category.QY, doc_date=date(2023, 6, 1),
                     department="CA", is_original=False, remarks="原件存银行")

    status, pages = catalogue(logged_in(app, factory, c_archivist), dossier)
    assert status == 200
    text = "\n".join(pages)
    flat = squeeze(text)
    for column in COLUMNS:
        assert column in text
    for expected in ("卷内目录", dossier.archive_number, "3栋2单元1502", "陈美玲", "LJY-RG-2023-0158",
                     "丽景苑置业有限公司", "20230508", "20230601", "C 内部", "复印件", "原件存银行"):
        assert squeeze(expected) in flat, expected
    assert subscription.archive_number in flat and contract.archive_number in flat
    assert "商品房买卖合同" in flat
    # The B-level document is not there for a C-cleared archivist: not its number, title, date or pages.
    assert discount.archive_number not in flat and "特殊折扣审批表" not in flat and "20230506" not in flat
    assert "件数Documents2" in flat and "页数Pages4" in flat  # counted without it
    assert "Page 1 of 1" in text
    # The categories come in their order, so XS before QY, as the archive numbers run.
    assert flat.index(subscription.archive_number) < flat.index(contract.archive_number)

    status, pages = catalogue(logged_in(app, factory, archivist), dossier)
    flat = squeeze("".join(pages))
    assert discount.archive_number in flat and "特殊折扣审批表" in flat and "B普通商密" in flat
    assert flat.index(subscription.archive_number) < flat.index(discount.archive_number)  # XS-0001, XS-0002
    printed = audit_events("catalogue.print")
    assert [e.actor_id for e in printed] == [c_archivist.id, archivist.id]
    assert discount.archive_number not in json.loads(printed[0].details)["documents"]
    assert discount.archive_number in json.loads(printed[1].details)["documents"]


def test_a_clerk_prints_only_the_documents_of_their_department(app, factory):
    clerk = factory.user("sales-clerk", roles=(Role.CLERK,), department="SALES", clearance=Level.B)
    dossier = factory.dossier()
    own = paper(factory, dossier, "认购书", department="SALES")
    others = paper(factory, dossier, "维修工单", department="CSC", category=Category.WX)
    status, pages = catalogue(logged_in(app, factory, clerk), dossier)
    assert status == 200
    flat = squeeze("".join(pages))
    assert own.archive_number in flat
    assert others.archive_number not in flat and "维修工单" not in flat


def test_a_closed_volume_lists_the_documents_dated_while_its_customer_held_the_unit(app, factory, archivist):
    dossier = factory.dossier()
    departed = holder(factory, dossier, "张伟", date(2020, 3, 1), date(2023, 6, 30))
    current = holder(factory, dossier, "李娜", date(2023, 7, 1))
    before = paper(factory, dossier, "排号协议", doc_date=date(2020, 2, 28))
    first = paper(factory, dossier, "认购书", doc_date=date(2020, 3, 1))
    last = paper(factory, dossier, "转让协议", doc_date=date(2023, 6, 30), category=Category.QY)
    after = paper(factory, dossier, "入伙通知书", doc_date=date(2023, 7, 1), category=Category.RH)
    client = logged_in(app, factory, archivist)

    status, pages = catalogue(client, dossier, departed)
    assert status == 200
    flat = squeeze("".join(pages))
    assert first.archive_number in flat and last.archive_number in flat
    assert before.archive_number not in flat and after.archive_number not in flat
    assert "张伟" in flat and "2020-03-01至2023-06-30" in flat and "分卷Volume" in flat
    assert "李娜" not in flat

    # The whole dossier names every customer, oldest first, and lists everything.
    flat = squeeze("".join(catalogue(client, dossier)[1]))
    assert flat.index("张伟") < flat.index("李娜")
    assert all(d.archive_number in flat for d in (before, first, last, after))

    # A customer who still holds the unit has no closed volume; another unit's volume is not this dossier's.
    response = client.get(f"/dossiers/{dossier.id}/catalogue.pdf?volume={current.id}")
    assert response.status_code == 400 and "still holds the unit" in response.get_data(as_text=True)
    other = factory.dossier(unit="2-1503", unit_name="2单元1503")
    stranger = holder(factory, other, "王强", date(2021, 1, 1), date(2022, 1, 1))
    assert client.get(f"/dossiers/{dossier.id}/catalogue.pdf?volume={stranger.id}").status_code == 404
    assert [json.loads(e.details)["volume"] for e in audit_events("catalogue.print")] == [departed.id, None]


def test_a_long_catalogue_numbers_its_pages_and_prints_readable_chinese(app, factory, archivist, tmp_path):
    dossier = factory.dossier()
    holder(factory, dossier, "陈美玲", date(2023, 5, 8))
    titles = ["商品房买卖合同（预售）补充协议之三：关于车位、储藏室及装修标准的约定", "认购书", "收款收据", "业主身份证复印件"]
    documents = [paper(factory, dossier, titles[i % 4], doc_date=date(2023, 5, 1 + i % 28), is_original=i % 4 != 3)
                 for i in range(45)]
    response = logged_in(app, factory, archivist).get(f"/dossiers/{dossier.id}/catalogue.pdf")
    pages = pdf_pages(response.get_data())
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text and f"第 {number} 页 / 共 {len(pages)} 页" in text
        assert dossier.archive_number in text  # the running header names the dossier on every page
        assert "序号" in text and "档号" in text  # the column heads repeat
    flat = squeeze("".join(pages))
    assert all(d.archive_number in flat for d in documents)
    assert f"Printedat{utcnow().astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d}" in flat

    png = render_png(response.get_data(), tmp_path, "catalogue", resolution=100)
    page = Image.open(png).convert("L")
    page.save(LOOK_AT)
    dark = sum(page.histogram()[:128])
    assert dark > 0.01 * page.width * page.height  # text and table rules, not a blank page

"""One archivist's day in a real Chromium, in Chinese: log in, the dashboard, import a small manifest on the
import page, search a word from one of the scans, open its dossier, check a handover sent to the archive.

Screenshots of each main page are saved in tests/browser/screenshots/ (git-ignored; ARCHIVE_SCREENSHOT_DIR
chooses another folder), overwritten by each run.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.auth.services import department_by_code
from archive.core.enums import Category, Level, Role
from archive.documents.models import Document
from archive.extensions import db
from archive.handovers import services as handovers
from archive.handovers.deadlines import ensure_default_rules
from archive.handovers.models import HandoverItem, HandoverRule, ItemCheck
from tests.browser.test_loan_flow import _log_in
from tests.factories import make_image, make_pdf

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("ARCHIVE_SCREENSHOT_DIR", Path(__file__).parent / "screenshots"))


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sent_repair_batch(factory, dossier) -> int:
    """Customer service hands its repair records to the archive: assembled, signed off and sent."""
    ensure_default_rules()
    document = factory.document(dossier, category=Category.WX, department="CSC", title="维修单（厨房漏水）",
                                content=make_pdf("维修单", "厨房 漏水 已修复", pages=2))
    clerk = factory.user("csc-wang", roles=(Role.CLERK,), department="CSC")
    head = factory.user("csc-head", roles=(Role.DEPT_HEAD,), department="CSC")
    rule_id = db.session.scalar(sa.select(HandoverRule.id).where(
        HandoverRule.category == Category.WX, HandoverRule.from_department_id == department_by_code("CSC").id))
    batch = handovers.create_batch(clerk, rule_id)
    handovers.add_documents(clerk, batch.id, [document.id])
    handovers.sign_off(head, batch.id)
    handovers.send(clerk, batch.id)
    return batch.id


def test_an_archivists_day_in_chinese(app, factory, live_server, page, tmp_path):
    # Imports run on the worker; here at once, in the request that starts them, as does the indexing.
    app.config.update(QUEUE_IMMEDIATE=True, IMPORT_ROOT=str(tmp_path / "import-root"))
    scans = tmp_path / "import-root" / "2019年扫描件"
    scans.mkdir(parents=True)
    (scans / "认购书.pdf").write_bytes(make_pdf("认购书", "认购人 欧阳明 房款 人民币 1,280,000 元"))
    (scans / "买卖合同.pdf").write_bytes(make_pdf("房地产买卖合同", "合同编号 HT-2019-0042", pages=2))
    (scans / "入伙通知书.jpg").write_bytes(make_image("JPEG"))
    manifest = tmp_path / "清单.csv"
    with manifest.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["文件路径", "项目", "栋", "房号", "资料类别", "题名", "日期", "密级", "责任部门"])
        writer.writerow(["认购书.pdf", "LJY", "03", "2-1502", "XS", "认购书（欧阳明）", "2019-03-02", "C", "SALES"])
        writer.writerow(["买卖合同.pdf", "LJY", "03", "2-1502", "签约资料", "房地产买卖合同", "20190415", "内部", "CA"])
        writer.writerow(["入伙通知书.jpg", "LJY", "03", "2-1502", "RH", "入伙通知书", "2019-06-30", "C", "CA"])
    dossier = factory.dossier(factory.project("LJY", "丽景苑"), "03", "2-1502", "2单元1502", "3栋")
    batch_id, dossier_id = _sent_repair_batch(factory, dossier), dossier.id
    archivist = factory.user("gmo-zhou", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.B).username
    db.session.commit()  # and touch no model after it: on SQLite a new transaction holds the write lock

    _log_in(page, live_server, archivist)
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    page.goto(f"{live_server}/")
    page.wait_for_load_state()
    assert "档案" in page.inner_text("header")  # the dashboard, or the dossiers when no panel applies
    _shot(page, "1-dashboard")

    # The import page: the manifest is checked, then started; the page follows it to the end.
    page.click("nav a[href='/imports/']")
    page.set_input_files("input[name=manifest]", str(manifest))
    page.select_option("select[name=folder]", "2019年扫描件")
    _shot(page, "2-import")
    page.click("form[action='/imports/'] button[type=submit]")
    page.wait_for_url(f"{live_server}/imports/*")
    assert page.get_attribute("#import-state", "data-state") == "checked"
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_load_state()
    assert page.get_attribute("#import-state", "data-state") == "done"
    assert page.inner_text("#import-filed") == "3"
    _shot(page, "3-import-done")

    # A word from the subscription's text finds it; its page leads to the dossier.
    page.goto(f"{live_server}/find?q=欧阳明")
    results = page.inner_text("main table")
    assert "认购书（欧阳明）" in results and "房地产买卖合同" not in results
    _shot(page, "4-search")
    page.click("main table a[href^='/documents/']")
    page.click(f"a[href='/dossiers/{dossier_id}']")
    page.wait_for_url(f"{live_server}/dossiers/{dossier_id}*")
    listed = page.inner_text("main")
    for title in ("认购书（欧阳明）", "房地产买卖合同", "入伙通知书", "维修单（厨房漏水）"):
        assert title in listed
    _shot(page, "5-dossier")

    # The repair batch customer service sent: the archivist counts the item and its two pages, and accepts it.
    page.goto(f"{live_server}/handovers/{batch_id}")
    assert page.input_value("form.check-form input[name$=counted_items]") == "1"  # as listed, until counted
    page.fill("form.check-form input[name$=counted_pages]", "2")
    page.click("form.check-form button[type=submit]")
    page.wait_for_url(f"{live_server}/handovers/{batch_id}*")
    _shot(page, "6-handover")
    assert db.session.scalar(sa.select(HandoverItem.check).where(HandoverItem.handover_id == batch_id)) \
        is ItemCheck.ACCEPTED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 4

"""An archivist's first day in a real Chromium: log in, upload, download, log out."""
from __future__ import annotations

import pytest

from archive.extensions import db
from tests.factories import PASSWORD, make_pdf

pytestmark = pytest.mark.browser


def test_log_in_upload_download_log_out(app, factory, live_server, page, tmp_path):
    archivist = factory.archivist
    dossier = factory.dossier()
    scan = tmp_path / "认购书-3栋2单元1502.pdf"
    scan.write_bytes(make_pdf("认购书", "3栋2单元1502 押金 人民币 5,000 元"))
    username, dossier_id, dossier_number = archivist.username, dossier.id, dossier.archive_number
    db.session.commit()  # on SQLite an open transaction would hold the write lock the server needs

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{live_server}/dashboard*")  # each role lands on its work

    page.goto(f"{live_server}/dossiers/{dossier_id}")
    assert dossier_number in page.content()
    page.click(f"a[href='/dossiers/{dossier_id}/upload']")
    page.set_input_files("input[type=file]", str(scan))
    page.select_option("select[name=category]", "XS")
    page.fill("input[name=title]", "认购书")
    page.fill("input[name=responsible_party]", "丽景苑置业有限公司")
    page.fill("input[name=doc_date]", "2023-05-08")
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_url(f"{live_server}/dossiers/{dossier_id}*")
    number = f"{dossier_number}-XS-0001"
    assert number in page.content()

    page.click(f"main table a:has-text('{number}')")
    with page.expect_download() as download_info:
        page.click("a[href*='/download']")
    downloaded = tmp_path / "downloaded.pdf"
    download_info.value.save_as(downloaded)
    assert downloaded.read_bytes() == scan.read_bytes()

    # Headless Chromium has no PDF viewer: the document page's inline preview becomes a pending download
    # in its frame, which swallows the next form submission there. Log out from the dossier list.
    page.goto(f"{live_server}/dossiers")
    page.click("header form[action='/logout'] button")
    page.wait_for_url(f"{live_server}/login*")
    page.goto(f"{live_server}/dossiers/{dossier_id}")
    assert "/login" in page.url

"""An archive with an import folder on the server, a unit in the register, and manifests written as files."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import make_app, running
from tests.factories import make_image, make_pdf

CHINESE_HEADERS = ["文件路径", "项目", "栋", "房号", "资料类别", "题名", "日期", "密级", "责任部门", "页数",
                   "原件/复印件", "盒", "架"]


@pytest.fixture
def app(database_url, tmp_path):
    with running(make_app(database_url, tmp_path / "storage", IMPORT_ROOT=str(tmp_path / "import-root"))) as app:
        yield app


@pytest.fixture
def scans(tmp_path) -> Path:
    """The folder of scans: a subfolder of the import root, as an archivist would copy them there."""
    folder = tmp_path / "import-root" / "2019-scans"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def unit_dossier(factory):
    """丽景苑 (LJY) 3栋 (03) 2单元1502 (2-1502) in the register, with its dossier."""
    return factory.dossier(factory.project("LJY", "丽景苑"), "03", "2-1502", "2单元1502", "3栋")


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def csv_manifest(rows: list[list], headers=CHINESE_HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # as Excel saves "CSV UTF-8"


def xlsx_manifest(rows: list[list], headers=CHINESE_HEADERS) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def three_scans() -> dict[str, bytes]:
    return {
        "认购书.pdf": make_pdf("认购书 欧阳明", "房款 人民币 1,280,000 元"),
        "contracts/买卖合同.pdf": make_pdf("房地产买卖合同", "合同编号 HT-2019-0042", pages=3),
        "入伙通知书.jpg": make_image("JPEG"),
    }


def three_rows() -> list[list]:
    return [
        ["认购书.pdf", "LJY", "03", "2-1502", "XS", "认购书（欧阳明）", "2019-03-02", "C", "SALES", "", "原件", "", ""],
        ["contracts/买卖合同.pdf", "丽景苑", "3栋", "2单元1502", "签约资料", "房地产买卖合同", "20190415", "普通商密",
         "CA", "", "原件", "", ""],
        ["入伙通知书.jpg", "LJY", "03", "2-1502", "RH", "入伙通知书", "2019/06/30", "内部", "客户服务中心", "2",
         "复印件", "", ""],
    ]


EXPECTED_DATES = [date(2019, 3, 2), date(2019, 4, 15), date(2019, 6, 30)]

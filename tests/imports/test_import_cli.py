"""`archive import`: a whole manifest checked first with every problem by row, then filed, resumably."""
from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Carrier, Category, Level, Role
from archive.core.keys import blob_store
from archive.documents.models import Document, FileVersion
from archive.extensions import db
from archive.imports import services
from archive.shelving import services as shelving
from tests.factories import make_image, make_pdf
from tests.imports.conftest import (CHINESE_HEADERS, EXPECTED_DATES, csv_manifest, three_rows, three_scans,
                                    write_files, xlsx_manifest)


def _documents() -> list[Document]:
    return list(db.session.scalars(sa.select(Document).order_by(Document.id)))


def _import(runner, manifest: Path, user: str, *extra: str):
    return runner.invoke(args=["import", str(manifest), "--user", user, *extra])


def test_csv_with_chinese_headers_files_every_scan(runner, factory, unit_dossier, scans):
    files = three_scans()
    write_files(scans, files)
    (scans / "manifest.csv").write_bytes(csv_manifest(three_rows()))
    archivist = factory.user("daisy", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.B)

    result = _import(runner, scans / "manifest.csv", archivist.username)

    assert result.exit_code == 0, result.output
    assert "Filed 3, already there 0, failed 0." in result.output
    docs = _documents()
    assert [d.title for d in docs] == ["认购书（欧阳明）", "房地产买卖合同", "入伙通知书"]
    assert [d.dossier_id for d in docs] == [unit_dossier.id] * 3
    assert [d.category for d in docs] == [Category.XS, Category.QY, Category.RH]
    assert [d.level for d in docs] == [Level.C, Level.B, Level.C]
    assert [d.department.code for d in docs] == ["SALES", "CA", "CSC"]
    assert [d.doc_date for d in docs] == EXPECTED_DATES
    assert [d.page_count for d in docs] == [1, 3, 2]  # from the files, unless the manifest says
    assert [d.is_original for d in docs] == [True, True, False]
    assert docs[0].archive_number == f"{unit_dossier.archive_number}-XS-0001"
    assert docs[0].created_by_id == archivist.id
    for doc, content in zip(docs, files.values()):  # stored encrypted, and reads back as the scan
        version = doc.versions[0]
        assert version.plain_sha256 == hashlib.sha256(content).hexdigest()
        with blob_store().open(version.blob_id, version.key_id, version.wrapped_key) as stream:
            assert stream.read() == content
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import.run"))
    assert json.loads(event.details)["filed"] == 3


def test_xlsx_with_chinese_headers_and_spreadsheet_cells(runner, factory, unit_dossier, scans):
    """Excel keeps dates as dates and a unit such as 1502 as a number: both are read as written."""
    from datetime import datetime

    factory.dossier(unit_dossier.project, "03", "1502", "1502")
    write_files(scans, {"a.pdf": make_pdf("维修单 漏水"), "b.png": make_image("PNG")})
    rows = [["a.pdf", "LJY", "03", 1502, "维修资料", "维修单", datetime(2020, 8, 1), "", "CSC", None, None, None, None],
            ["b.png", "LJY", "03", "2-1502", "其他资料", "照片", datetime(2020, 8, 2), "C", "GMO", 1, "原件", None, None]]
    (scans / "清单.xlsx").write_bytes(xlsx_manifest(rows))

    result = _import(runner, scans / "清单.xlsx", factory.archivist.username)

    assert result.exit_code == 0, result.output
    first, second = _documents()
    assert (first.dossier.unit.code, first.category, first.doc_date) == ("1502", Category.WX, datetime(2020, 8, 1).date())
    assert (second.dossier_id, second.category, second.department.code) == (unit_dossier.id, Category.QT, "GMO")


def test_every_problem_is_printed_with_its_row_and_nothing_is_filed(runner, factory, unit_dossier, scans, tmp_path):
    pdf = make_pdf("认购书")
    write_files(scans, {"good.pdf": pdf, "same.pdf": pdf, "notes.txt": b"just text", "empty.pdf": b"",
                        "locked.pdf": make_pdf("合同", encrypt_with="secret"), "broken.pdf": b"%PDF-1.4 broken"})
    write_files(scans, {f"r{n}.pdf": make_pdf(f"第{n}行") for n in range(10, 16)})
    (tmp_path / "import-root" / "outside.pdf").write_bytes(make_pdf("外面"))
    clerk = factory.user("carl", roles=(Role.CLERK,), department="SALES", clearance=Level.C)
    ok = ["good.pdf", "LJY", "03", "2-1502", "XS", "认购书", "2019-03-02", "C", "SALES", "", "原件", "", ""]
    rows = [
        ok,                                                                                     # row 2: fine
        ["same.pdf", *ok[1:]],                                                                  # 3: same file as row 2
        ["missing.pdf", *ok[1:]],                                                               # 4
        ["../outside.pdf", *ok[1:]],                                                            # 5
        ["notes.txt", *ok[1:]],                                                                 # 6
        ["locked.pdf", *ok[1:]],                                                                # 7
        ["broken.pdf", *ok[1:]],                                                                # 8
        ["empty.pdf", *ok[1:]],                                                                 # 9
        ["r10.pdf", "LJY", "03", "9-9999", *ok[4:]],                                            # 10: unknown unit
        ["r11.pdf", "LJY", "03", "2-1502", "XX", "", "2019-13-40", "绝密", "SALES", "三", "正本", "", ""],
        ["r12.pdf", *ok[1:7], "B", *ok[8:]],                                                    # 12: above clearance
        ["r13.pdf", *ok[1:8], "LEGAL", *ok[9:]],                                                # 13: other department
        ["r14.pdf", *ok[1:8], "NOPE", *ok[9:]],                                                 # 14
        ["r15.pdf", *ok[1:11], "BOX-1", ""],                                                    # 15: no such box
    ]
    (scans / "manifest.csv").write_bytes(csv_manifest(rows))

    result = _import(runner, scans / "manifest.csv", clerk.username)

    assert result.exit_code == 1
    out = result.output
    expected = [
        "row 3: The file same.pdf is the same as the one in row 2.",
        "row 4: No file missing.pdf in the import folder.",
        "row 5: The path ../outside.pdf leaves the import folder.",
        "row 6: notes.txt: not a PDF, JPEG, PNG or TIFF file (judged by its content).",
        "row 7: locked.pdf: the PDF is encrypted or password-protected; file an unprotected copy.",
        "row 8: broken.pdf: the PDF is damaged and cannot be read.",
        "row 9: empty.pdf: the file is empty.",
        "row 10: No unit LJY / 03 / 9-9999 in the register: add it there first.",
        "row 11: The column 题名 is empty.",
        "row 11: Unknown category XX.",
        "row 11: Unknown level 绝密 (C/B/A or 内部/普通商密/核心商密).",
        "row 11: The date 2019-13-40 is not a date (YYYY-MM-DD or YYYYMMDD).",
        "row 11: The page count 三 is not a whole number.",
        "row 11: Write 原件 or 复印件 (original or copy), not 正本.",
        "row 12: You cannot file a document above your own clearance.",
        "row 13: You can file documents only for your own department.",
        "row 14: Unknown department NOPE.",
        "row 15: No box has the code BOX-1: create the box first.",
        "18 problem(s) in manifest.csv; nothing was filed.",
    ]
    for line in expected:
        assert line in out
    assert "row 2:" not in out
    assert _documents() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FileVersion)) == 0


def test_paths_leaving_the_folder_are_refused(runner, factory, unit_dossier, scans, tmp_path):
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(make_pdf("机密"))
    (scans / "link.pdf").symlink_to(secret)
    ok = ["LJY", "03", "2-1502", "XS", "认购书", "2019-03-02", "C", "SALES", "", "原件", "", ""]
    paths = ["../../secret.pdf", str(secret), "sub/../../../secret.pdf", "link.pdf", "..\\..\\secret.pdf",
             "C:\\secret.pdf"]
    (scans / "manifest.csv").write_bytes(csv_manifest([[p, *ok] for p in paths]))

    result = _import(runner, scans / "manifest.csv", factory.archivist.username)

    assert result.exit_code == 1
    for row, path in enumerate(paths, start=2):
        assert f"row {row}: The path {path} leaves the import folder." in result.output
    assert _documents() == []


def test_who_may_import(runner, factory, unit_dossier, scans):
    """A clerk files for their own department only; an administrator files nothing (三员分立)."""
    write_files(scans, {"a.pdf": make_pdf("维修单")})
    row = ["a.pdf", "LJY", "03", "2-1502", "WX", "维修单", "2020-01-02", "C", "CSC", "", "", "", ""]
    (scans / "manifest.csv").write_bytes(csv_manifest([row]))
    sales_clerk = factory.user("sam", roles=(Role.CLERK,), department="SALES")
    admin = factory.user("root", roles=(Role.ADMIN,), department="GMO")

    refused = _import(runner, scans / "manifest.csv", sales_clerk.username)
    assert refused.exit_code == 1
    assert "row 2: You can file documents only for your own department." in refused.output
    assert _import(runner, scans / "manifest.csv", admin.username).exit_code == 1
    assert "root may not import documents." in _import(runner, scans / "manifest.csv", admin.username).output
    assert _documents() == []

    service_clerk = factory.user("cora", roles=(Role.CLERK,), department="CSC")
    allowed = _import(runner, scans / "manifest.csv", service_clerk.username)
    assert allowed.exit_code == 0, allowed.output
    assert [d.department.code for d in _documents()] == ["CSC"]


def test_a_box_code_puts_the_paper_original_into_the_box(runner, factory, unit_dossier, scans):
    archivist = factory.archivist
    box = shelving.create_box(archivist, "QZ01-H-0007", "丽景苑 2019", shelving.Place(3, "301", "A-02"))
    write_files(scans, {"a.pdf": make_pdf("认购书"), "b.pdf": make_pdf("补充协议")})
    rows = [["a.pdf", "LJY", "03", "2-1502", "XS", "认购书", "2019-03-02", "C", "SALES", "", "原件", "QZ01-H-0007", "A-02"],
            ["b.pdf", "LJY", "03", "2-1502", "QY", "补充协议", "2019-04-02", "C", "CA", "", "原件", "QZ01-H-0007", "B-01"]]
    (scans / "manifest.csv").write_bytes(csv_manifest(rows))

    refused = _import(runner, scans / "manifest.csv", archivist.username)
    assert "row 3: Box QZ01-H-0007 stands on shelf A-02, not B-01." in refused.output

    rows[1][-1] = ""
    (scans / "manifest.csv").write_bytes(csv_manifest(rows))
    result = _import(runner, scans / "manifest.csv", archivist.username)
    assert result.exit_code == 0, result.output
    docs = _documents()
    assert [d.box_id for d in docs] == [box.id, box.id]
    assert [d.carrier for d in docs] == [Carrier.PAPER, Carrier.PAPER]
    assert docs[0].location == "3F / 301 / QZ01-H-0007 / A-02"


def test_a_killed_import_continues_without_duplicates(app, factory, unit_dossier, scans, runner):
    """The import is killed (SIGKILL) after its second document, perhaps in the middle of the third; the second
    run files the rest and recognises what is there by its checksum."""
    files = {f"scan{n:02d}.pdf": make_pdf(f"维修单 第{n}号", "漏水 维修 完成") for n in range(8)}
    write_files(scans, files)
    rows = [[name, "LJY", "03", "2-1502", "WX", f"维修单{n}", "2021-05-01", "C", "CSC", "", "", "", ""]
            for n, name in enumerate(files)]
    (scans / "manifest.csv").write_bytes(csv_manifest(rows))
    archivist_id = factory.archivist.id
    manifest = (scans / "manifest.csv").read_bytes()

    db.session.remove()
    filed_r, filed_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child imports, saying after each document that it is filed; it is never let finish
        try:
            db.engine.dispose(close=False)
            from archive.auth.models import User

            identity = db.session.get(User, archivist_id)
            checked = services.check_import(identity, "manifest.csv", manifest, scans)
            services.run_import(identity, "manifest.csv", checked, on_row=lambda _o: os.write(filed_w, b"."))
        finally:
            os._exit(3)
    os.close(filed_w)
    with os.fdopen(filed_r, "rb") as filed:
        assert filed.read(2) == b".."
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), "the child finished the import before it was killed"

    done = len(_documents())
    assert 2 <= done < 8
    result = runner.invoke(args=["import", str(scans / "manifest.csv"), "--user", factory.archivist.username])

    assert result.exit_code == 0, result.output
    assert f"Filed {8 - done}, already there {done}, failed 0." in result.output
    docs = _documents()
    digests = [d.versions[0].plain_sha256 for d in docs]
    assert sorted(digests) == sorted(hashlib.sha256(c).hexdigest() for c in files.values())  # each once
    assert sorted(d.seq for d in docs) == list(range(1, 9))  # the numbers stay gap-free
    again = runner.invoke(args=["import", str(scans / "manifest.csv"), "--user", factory.archivist.username])
    assert "Filed 0, already there 8, failed 0." in again.output


def test_a_file_that_changes_after_the_check_fails_alone(app, factory, unit_dossier, scans):
    """The check and the filing are apart in time: a file spoilt in between is reported, the others filed."""
    write_files(scans, {"a.pdf": make_pdf("一"), "b.pdf": make_pdf("二"), "c.pdf": make_pdf("三")})
    rows = [[n, "LJY", "03", "2-1502", "QT", n, "2021-05-01", "C", "GMO", "", "", "", ""] for n in ("a.pdf", "b.pdf", "c.pdf")]
    identity = factory.archivist
    checked = services.check_import(identity, "m.csv", csv_manifest(rows), scans)
    (scans / "b.pdf").write_bytes(b"overwritten")

    summary = services.run_import(identity, "m.csv", checked)

    assert (summary.filed, summary.skipped, [f.row for f in summary.failed]) == (2, 0, [3])
    assert [d.title for d in _documents()] == ["a.pdf", "c.pdf"]


def test_missing_columns_and_unreadable_manifests(runner, factory, scans):
    (scans / "m.csv").write_bytes(csv_manifest([["a.pdf"]], headers=["文件路径", "题名"]))
    result = _import(runner, scans / "m.csv", factory.archivist.username)
    assert result.exit_code == 1
    assert "manifest: The manifest lacks the columns 项目/project, 栋/building, 房号/unit" in result.output
    (scans / "m.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert "The manifest is not a readable XLSX workbook." in _import(runner, scans / "m.xlsx",
                                                                      factory.archivist.username).output
    gbk = ",".join(CHINESE_HEADERS).encode("gb18030") + b"\n"
    (scans / "gbk.csv").write_bytes(gbk)
    assert "The manifest lists no documents." in _import(runner, scans / "gbk.csv", factory.archivist.username).output

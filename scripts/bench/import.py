"""Benchmark `archive import`: N small text PDFs (Chinese, embedded font) listed in a manifest.

    python scripts/bench/import.py [N] [--keep DIR]

Builds N one-page PDFs (default 10,000) in a folder under /tmp with a CSV manifest (Chinese headers), a fresh
SQLite archive with one project, N/10 units and an archivist, then runs the real command in a process of its
own, as an archivist would:

- `archive import MANIFEST --user … --check`: reading the manifest and checking every row and file;
- `archive import MANIFEST --user …`: checking again, then filing (encryption, archive numbers, audit), with the
  text extraction only queued (the SQLite queue; no worker runs: OCR and text reading are excluded);
- the same command a second time, which must file nothing and find every document already there.

It prints documents per second and the peak memory (maximum resident set) of each run. Everything is removed
at the end unless --keep names a directory.
"""
from __future__ import annotations

import argparse
import base64
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ARCHIVE_INSTANCE_PATH", "/nonexistent-instance-for-bench")

DOCS_PER_UNIT = 10
CATEGORIES = ("XS", "QY", "BZ", "RH", "WX", "PF", "QT")
DEPARTMENT_OF = {"XS": "SALES", "QY": "CA", "BZ": "CA", "RH": "CA", "WX": "CSC", "PF": "CSC", "QT": "GMO"}


def text_pdf(title: str, line: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from archive.reports.fonts import cjk_font

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont(cjk_font(), 14)
    pdf.drawString(72, 760, title)
    pdf.drawString(72, 736, line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def build_scans(folder: Path, count: int) -> Path:
    """count PDFs in subfolders of 1,000 and the manifest listing them; returns the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "清单.csv"
    with manifest.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["文件路径", "项目", "栋", "房号", "资料类别", "题名", "日期", "密级", "责任部门"])
        for i in range(count):
            category = CATEGORIES[i % len(CATEGORIES)]
            relative = f"{i // 1000:03d}/scan{i:06d}.pdf"
            path = folder / relative
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(text_pdf(f"房地产买卖合同 第{i}号", f"业主 欧阳明{i} 押金 人民币 {i % 9000 + 1000} 元"))
            writer.writerow([relative, "BENCH", "01", f"U{i // DOCS_PER_UNIT:05d}", category, f"合同 {i}",
                             f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}", "C", DEPARTMENT_OF[category]])
            if i % 1000 == 999:
                print(f"  {i + 1} PDFs written", file=sys.stderr)
    return manifest


def build_archive(count: int) -> None:
    from archive.auth import services as auth
    from archive.core.enums import Level, Role
    from archive.units import services as units

    archivist, _ = auth.create_user(auth.SYSTEM, username="bench", display_name="基准", department_code="GMO",
                                    roles={Role.ARCHIVIST}, clearance=Level.A, password="bench-password-1")
    project = units.create_project(archivist, "BENCH", "丽景苑")
    building = units.add_building(archivist, project.id, "01", "1栋")
    specs = [units.UnitSpec(f"U{u:05d}", f"{u}室") for u in range(-(-count // DOCS_PER_UNIT))]
    units.add_units(archivist, building.id, specs)


def run(env: dict, *args: str) -> tuple[str, float, int]:
    """The command's output, its wall time and its peak resident memory in MB."""
    started = time.perf_counter()
    process = subprocess.Popen([str(Path(sys.executable).parent / "archive"), *args], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"archive {' '.join(args)} failed ({process.returncode}):\n{output}")
    return output, seconds, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from archive import create_app
    from archive.auth.services import ensure_default_departments
    from archive.core.keys import write_key_check
    from archive.extensions import db

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ARCHIVE_DATABASE_URL": f"sqlite:///{work / 'archive.db'}",
           "ARCHIVE_STORAGE_DIR": str(work / "storage"),
           "ARCHIVE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "ARCHIVE_SECRET_KEY": "bench"}
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": env["ARCHIVE_DATABASE_URL"], "STORAGE_DIR": env[
            "ARCHIVE_STORAGE_DIR"], "MASTER_KEY": env["ARCHIVE_MASTER_KEY"], "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            write_key_check()
            db.session.commit()
            ensure_default_departments()
            build_archive(args.n)
            print(f"writing {args.n} PDFs …", file=sys.stderr)
            manifest = build_scans(work / "scans", args.n)
            db.session.remove()
            db.engine.dispose()
        size = sum(p.stat().st_size for p in (work / "scans").rglob("*.pdf"))
        print(f"{args.n} text PDFs, {size / args.n / 1024:.1f} KB each on average, in {args.n // DOCS_PER_UNIT} "
              f"dossiers")

        command = ["import", str(manifest), "--user", "bench"]
        _, seconds, peak = run(env, *command, "--check")
        print(f"check only:      {args.n / seconds:7.0f} docs/s ({seconds:.1f} s), peak memory {peak} MB")
        output, seconds, peak = run(env, *command)
        assert f"Filed {args.n}, already there 0, failed 0." in output, output
        print(f"check and file:  {args.n / seconds:7.0f} docs/s ({seconds:.1f} s), peak memory {peak} MB")
        output, seconds, peak = run(env, *command)
        assert f"Filed 0, already there {args.n}, failed 0." in output, output
        print(f"second run:      {args.n / seconds:7.0f} docs/s ({seconds:.1f} s), peak memory {peak} MB, "
              f"{re.search(r'Filed .*', output).group(0)}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark backup, incremental re-backup, restore and the fixity check on an archive of N documents.

    python scripts/bench/backup.py [N] [--blob-kb KB] [--keep DIR]

Builds N documents (default 10,000) with one file of about KB kilobytes each (default 100: 1 GB of blobs for
10,000), sealed through the real envelope store, in a fresh SQLite archive under /tmp (rows in bulk, as
scripts/bench/search.py does), then measures:

- `backup`: database snapshot, every blob copied (hashed on the way, fsynced) and the manifest;
- an incremental re-backup after 1% more documents are filed: only their blobs are copied, the others are
  re-hashed in the destination;
- `restore` into an empty instance: checksums of the dump and every blob, database, blobs staged and swapped
  in, then the verification (every blob decrypted against its plaintext checksum, audit chain) and the
  rebuilt search index;
- the fixity-check rate: the integrity helper's periodic fixity run over every blob (re-hash, no key).

Everything is removed at the end unless --keep names a directory.
"""
from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("ARCHIVE_INSTANCE_PATH", "/nonexistent-instance-for-bench")

DOCS_PER_DOSSIER = 4


def build_archive(count: int, blob_bytes: int, start: int = 0) -> None:
    """count documents, each with one sealed file of blob_bytes random bytes (random: nothing compresses)."""
    import sqlalchemy as sa

    from archive.auth.models import Department
    from archive.core.enums import Category
    from archive.core.keys import blob_store
    from archive.extensions import db
    from archive.units.models import Building, Project

    departments = list(db.session.scalars(sa.select(Department.id).order_by(Department.id)))
    project = Project(code=f"B{start}", name="丽景苑")
    building = Building(project=project, code="01", name="1栋")
    db.session.add_all([project, building])
    store, categories, dossier = blob_store(), list(Category), None
    # Sealing and storing waits on fsync: a few threads keep the disk busy (as many uploads at once would).
    with ThreadPoolExecutor(8) as pool:
        sealed_blobs = pool.map(lambda _: store.put(io.BytesIO(os.urandom(blob_bytes))), range(count))
        _add_rows(count, start, sealed_blobs, departments, project, building, categories)
    print(file=sys.stderr)


def _add_rows(count, start, sealed_blobs, departments, project, building, categories) -> None:
    from archive.core.enums import Level, Retention
    from archive.documents.models import Document, FileVersion
    from archive.extensions import db
    from archive.units.models import Dossier, Unit

    dossier = None
    for i, sealed in zip(range(start, start + count), sealed_blobs):
        if (i - start) % DOCS_PER_DOSSIER == 0:
            unit = Unit(building=building, code=f"{i:06d}", name=f"{i}室")
            dossier = Dossier(project=project, unit=unit, archive_number=f"QZ01-B{start}-01-{i:06d}", title=f"丽景苑1栋{i}室")
            db.session.add_all([unit, dossier])
            db.session.flush()
        category = categories[i % len(categories)]
        doc = Document(dossier_id=dossier.id, archive_number=f"{dossier.archive_number}-{category.value}-{i:06d}",
                       category=category, seq=i + 1, title=f"房地产买卖合同 {i}", responsible_party="丽景苑置业有限公司",
                       doc_date=date(2015, 1, 1) + timedelta(days=i % 3600), department_id=departments[i % 2],
                       level=Level.C, retention=Retention.PERMANENT)
        db.session.add(doc)
        db.session.flush()
        db.session.add(FileVersion(document_id=doc.id, version=1, filename=f"{i}.pdf", media_type="application/pdf",
                                   blob_id=sealed.blob_id, key_id=sealed.key_id, wrapped_key=sealed.wrapped_key,
                                   plain_size=sealed.plain_size, plain_sha256=sealed.plain_sha256,
                                   cipher_size=sealed.cipher_size, cipher_sha256=sealed.cipher_sha256))
        if i % 1000 == 999:
            db.session.commit()
            print(f"  built {i + 1 - start}/{count}", file=sys.stderr, end="\r")
    db.session.commit()


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--blob-kb", type=int, default=100)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from archive import create_app
    from archive.auth.services import ensure_default_departments
    from archive.backup import services
    from archive.core.keys import write_key_check
    from archive.extensions import db
    from archive.integrity.fixity import run_fixity

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-backup-"))
    work.mkdir(parents=True, exist_ok=True)
    master_key = base64.b64encode(os.urandom(32)).decode()
    try:
        def instance(name: str):
            return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / name / 'archive.db'}",
                               "STORAGE_DIR": str(work / name / "storage"), "MASTER_KEY": master_key,
                               "SECRET_KEY": "bench", "QUEUE_IMMEDIATE": True})

        (work / "source").mkdir()
        source = instance("source")
        with source.app_context():
            upgrade(directory=source.extensions["migrate"].directory)
            write_key_check()
            db.session.commit()
            ensure_default_departments()
            print(f"building {args.n} documents of {args.blob_kb} KB …", file=sys.stderr)
            _, build_seconds = timed(build_archive, args.n, args.blob_kb * 1024)
            print(f"built in {build_seconds:.0f} s ({args.n * args.blob_kb / 1024 / build_seconds:.0f} MB/s "
                  "sealed and stored)")

            full, seconds = timed(services.backup, work / "backups")
            mb = full.size_bytes / 1e6
            print(f"backup: {args.n} documents, {mb:.0f} MB in {seconds:.1f} s: {mb / seconds:.0f} MB/s, "
                  f"{args.n / seconds:.0f} docs/s")

            extra = max(1, args.n // 100)
            build_archive(extra, args.blob_kb * 1024, start=args.n)
            again, seconds = timed(services.backup, work / "backups")
            print(f"incremental backup after {extra} new documents: {seconds:.1f} s, {again.copied_blobs} blobs "
                  f"copied ({again.copied_bytes / 1e6:.0f} MB written with the database dump), "
                  f"{again.present_blobs} already there re-hashed")

            run, seconds = timed(run_fixity, args.n + extra)
            print(f"fixity check (integrity fixity run, re-hash without key): {run.checked} blobs, "
                  f"{run.bytes_checked / 1e6:.0f} MB in {seconds:.1f} s: {run.bytes_checked / 1e6 / seconds:.0f} MB/s")
            db.session.remove()
            db.engine.dispose()

        (work / "target").mkdir()
        target = instance("target")
        with target.app_context():
            report, seconds = timed(services.restore, work / "backups")
            total = args.n + extra
            mb = again.size_bytes / 1e6
            print(f"restore (checksums, load, blobs, reindex, every blob decrypted and checked): {total} documents, "
                  f"{mb:.0f} MB in {seconds:.1f} s: {mb / seconds:.0f} MB/s, {total / seconds:.0f} docs/s; "
                  f"{'verified' if report.ok else 'PROBLEMS: ' + '; '.join(report.problems[:3])}")
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

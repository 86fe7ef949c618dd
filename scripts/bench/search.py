"""Benchmark full-text search on a synthetic Chinese property archive of N documents.

    python scripts/bench/search.py N [--procs P] [--skip-baselines] [--keep DIR]

Builds N documents of 1–2 KB (names, unit and contract numbers, repair and litigation vocabulary; one unit
per project is 3栋2单元1502 and about one contract sentence in 500 names HT-2023-0158, so the identifier
queries find something) in a fresh SQLite archive under /tmp, with each document's text sealed in the
encrypted blob store as the text worker leaves it, then:

- indexes them with `archive reindex --procs P`, in a process of its own (database rows, decryption of each
  text, the bigram analyser, P writer processes), and prints throughput, index size and peak memory: the
  highest sum of the resident memory of that process and its writer processes, sampled every 100 ms
  (`archive reindex` also refreshes the planner's statistics, as the worker does every hour);
- runs a fixed mix of queries through `services.search` as a clerk who may read about half of the archive:
  permission filtering, counts, facets and snippets (decrypting the first page of results), each query once
  against a fresh searcher, nothing cached; prints median and p95;
- runs the same corpus and queries through a plain Whoosh set-up (jieba analyser, default settings, one
  writer, no optimisation) and SQLite FTS5 with the trigram tokenizer (each counting its matches and
  fetching a first page of 20 rows with a passage), each in a process of its own with its peak memory, and
  prints them as ratios.
"""
from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import random
import multiprocessing
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("ARCHIVE_INSTANCE_PATH", "/nonexistent-instance-for-bench")

SURNAMES = "张王李赵刘陈杨黄吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文建国志红斌宇浩凯鹏飞俊"
PROJECTS = ["丽景苑", "翠湖花园", "金域华府", "碧海湾", "御景台", "星河名苑"]
SENTENCES = [
    "业主{name}报修：{unit}卫生间天花板漏水，影响楼下住户，维修班组于{date}上门更换防水层。",
    "买受人{name}购买{project}{unit}住宅一套，合同编号{contract}，总价款人民币{money}元。",
    "因{unit}交付延期，公司向业主{name}赔付人民币{money}元，业主不再就逾期交房提出其他请求。",
    "原告{name}诉被告{project}置业有限公司房屋买卖合同纠纷一案，案号（{year}）粤0305民初{case}号。",
    "判决被告退还押金人民币{money}元并支付违约金，案件受理费由被告负担。",
    "业主{name}于{date}办理{unit}入伙手续，领取钥匙{keys}把，交纳装修保证金及首年物业费。",
    "承租人{name}租赁{project}{unit}商铺，租期三年，月租金人民币{money}元，租赁押金无息退还。",
    "回访{name}，{unit}外墙渗水已处理，业主对维修结果满意，保修期内维修费用由施工单位承担。",
    "{name}于{date}领取{unit}不动产权证书，产权证号粤（{year}）深圳市不动产权第{cert}号。",
    "物业服务中心接{name}投诉，{unit}电梯噪声过大，已通知电梯维保单位检修并在三日内回复。",
    "经双方协商一致，{name}同意以人民币{money}元了结{unit}房屋质量纠纷，双方再无其他争议。",
    "出卖人应于{date}前交付房屋，逾期交房的，按日计算向买受人支付已付房价款万分之五的违约金。",
]
QUERIES = [
    # single words
    "漏水", "押金", "违约金", "判决", "赔付", "入伙", "钥匙", "电梯", "投诉", "租赁",
    # two-character words inside longer words or sentences
    "防水", "租金", "首年", "协商", "噪声", "维保",
    # names
    "张伟", "王芳", "李娜", "欧阳明", "陈静",
    # identifiers
    "HT-2023-0158", "0158", "3栋2单元1502", "1502", "12栋",
    # two- and three-term AND
    "漏水 维修", "押金 退还", "张伟 漏水", "判决 违约金 押金", "丽景苑 投诉 电梯", "1502 赔付",
]


PLANTED_CONTRACT = "HT-2023-0158"  # about one contract sentence in 500 names it, for the identifier queries


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def synthetic_text(rng: random.Random, project: str, unit: str, names: list[str]) -> str:
    target = rng.randint(350, 650)  # characters: 1–2 KB of UTF-8
    parts, size = [], 0
    while size < target:
        sentence = rng.choice(SENTENCES).format(
            name=rng.choice(names), unit=unit, project=project, date=f"{rng.randint(2015, 2024)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            contract=PLANTED_CONTRACT if rng.random() < 0.002 else f"HT-{rng.randint(2015, 2024)}-{rng.randint(1, 999):04d}",
            money=rng.randint(1, 900) * 1000,
            year=rng.randint(2015, 2024), case=rng.randint(1000, 9999), keys=rng.randint(2, 5),
            cert=rng.randint(1000000, 9999999),
        )
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)


def build_archive(app, n: int, rng: random.Random) -> list[str]:
    """Rows in bulk (the filing service's checks are not what is measured); texts sealed one by one."""
    import sqlalchemy as sa

    from archive.auth.models import Department
    from archive.core.enums import Category, Level, Retention
    from archive.core.keys import blob_store
    from archive.documents.models import Document, FileVersion
    from archive.extensions import db
    from archive.search.models import ExtractedText, TextStatus
    from archive.search.textstore import seal_pages
    from archive.units.models import Building, Dossier, Project, Unit

    departments = list(db.session.scalars(sa.select(Department.id).order_by(Department.id)))
    units, texts = [], []
    for p, name in enumerate(PROJECTS):
        project = Project(code=f"P{p}", name=name)
        db.session.add(project)
        for b in range(1, 21):
            building = Building(project=project, code=f"{b:02d}", name=f"{b}栋")
            db.session.add(building)
            for u in range(1, 1 + max(1, n // (len(PROJECTS) * 20 * 4))):
                code = f"{1 + u % 3}-{(u // 3 + 1) * 100 + 2 + u % 4:04d}"
                if (b, u) == (3, 1):  # a unit the identifier queries look for: 3栋2单元1502 in every project
                    code = "2-1502"
                unit = Unit(building=building, code=f"{code}-{u}", name=f"{1 + u % 3}单元{code[2:]}")
                db.session.add(unit)
                dossier = Dossier(project=project, unit=unit, archive_number=f"QZ01-P{p}-{b:02d}-{code}-{u}",
                                  title=f"{name} {b}栋{unit.name}")
                db.session.add(dossier)
                units.append((dossier, name, f"{b}栋{unit.name}"))
    db.session.flush()
    categories = list(Category)
    store = blob_store()
    for i in range(n):
        dossier, project, unit = units[i % len(units)]
        names = [_name(rng) for _ in range(2)] + (["张伟"] if i % 37 == 0 else []) + (["欧阳明"] if i % 53 == 0 else [])
        text = synthetic_text(rng, project, unit, names)
        texts.append(text)
        category = categories[i % len(categories)]
        doc = Document(dossier_id=dossier.id, archive_number=f"{dossier.archive_number}-{category.value}-{i:06d}",
                       category=category, seq=i + 1, title=text[:18], responsible_party=f"{project}置业有限公司",
                       doc_date=date(2015, 1, 1) + timedelta(days=i % 3600), department_id=departments[i % 2],
                       level=(Level.C, Level.C, Level.B)[i % 3], retention=Retention.PERMANENT)
        db.session.add(doc)
        db.session.flush()
        sealed = seal_pages([text])
        # The file version points at the text blob: the benchmark never downloads the file itself.
        version = FileVersion(document_id=doc.id, version=1, filename=f"{i}.pdf", media_type="application/pdf",
                              blob_id=f"f{sealed.blob_id}"[:64], key_id=sealed.key_id, wrapped_key=sealed.wrapped_key,
                              plain_size=sealed.plain_size, plain_sha256=sealed.plain_sha256,
                              cipher_size=sealed.cipher_size, cipher_sha256=sealed.cipher_sha256)
        db.session.add(version)
        db.session.flush()
        db.session.add(ExtractedText(file_version_id=version.id, document_id=doc.id, status=TextStatus.DONE,
                                     method="pdf-text", page_count=1, blob_id=sealed.blob_id, key_id=sealed.key_id,
                                     wrapped_key=sealed.wrapped_key, plain_sha256=sealed.plain_sha256,
                                     cipher_sha256=sealed.cipher_sha256))
        if i % 1000 == 999:
            db.session.commit()
            print(f"  built {i + 1}/{n}", file=sys.stderr, end="\r")
    db.session.commit()
    del store
    return texts


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


class PeakMemory:
    """The highest total resident memory of a process and all its descendants, sampled every 100 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb = pid, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(pid) for pid in _family(self.pid)))


def _family(root: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, added = {root}, True
    while added:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        added = bool(more)
    return list(family)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def reindex(env: dict[str, str], procs: int) -> dict:
    """`archive reindex` as an operator runs it, timed and measured from the outside."""
    command = [str(Path(sys.executable).parent / "archive"), "reindex", "--procs", str(procs)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with PeakMemory(process.pid) as memory:
        output, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"archive reindex failed ({process.returncode}): {output}")
    indexed = int(output.split("Indexed ")[1].split()[0])
    return {"indexed": indexed, "index_seconds": seconds, "docs_per_s": indexed / seconds, "peak_mb": memory.peak_mb}


def bench_archive(app) -> dict:
    from archive.auth.models import User
    from archive.extensions import db
    from archive.search import indexing, services

    clerk = db.session.scalar(db.select(User).where(User.username == "bench-clerk"))
    gc.freeze()  # as `archive serve` does before serving
    latencies, totals = {}, {}
    for text in QUERIES:
        started_q = time.perf_counter()
        page = services.search(clerk, services.SearchQuery(text=text))  # a fresh searcher every time
        latencies[text] = (time.perf_counter() - started_q) * 1000
        totals[text] = page.total
    return {"index_mb": dir_size(indexing.backend().path) / 2**20, "latencies": latencies, "totals": totals}


def in_own_process(function, *args) -> dict:
    """Run a baseline in a process of its own, with its peak memory."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_run_and_report, args=(results, function, *args))
    process.start()
    with PeakMemory(process.pid) as memory:
        result = results.get()
        process.join()
    return {**result, "peak_mb": memory.peak_mb}


def _run_and_report(results, function, *args) -> None:
    results.put(function(*args))


def read_texts(path: Path) -> list[str]:
    return json.loads(path.read_text(encoding="utf-8"))


def bench_plain_whoosh(texts_file: Path, where: Path) -> dict:
    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import QueryParser

    jieba.setLogLevel(60)
    texts = read_texts(texts_file)
    ix = index.create_in(str(where), Schema(id=ID(stored=True), content=TEXT(analyzer=ChineseAnalyzer())))
    started = time.perf_counter()
    writer = ix.writer()
    for i, text in enumerate(texts):
        writer.add_document(id=str(i), content=text)
    writer.commit()
    seconds = time.perf_counter() - started
    latencies, totals = {}, {}
    for text in QUERIES:
        started_q = time.perf_counter()
        with ix.searcher() as searcher:
            results = searcher.search(QueryParser("content", ix.schema).parse(text), limit=20)
            totals[text] = len(results)
        latencies[text] = (time.perf_counter() - started_q) * 1000
    return {"docs_per_s": len(texts) / seconds, "index_mb": dir_size(where) / 2**20, "latencies": latencies,
            "totals": totals}


def bench_fts5(texts_file: Path, where: Path) -> dict:
    """Each query counts its matches and fetches its first page with a passage of each row, as a results page
    needs. The trigram index answers words of three characters or more (MATCH). A shorter word can only be
    found by reading every row: LIKE on the table FTS5 keeps the text in (docs_content), because LIKE on the
    FTS5 table itself (SQLite 3.40) answers a pattern of fewer than three characters with no rows at all,
    at once, and that would be timed as a fast search."""
    texts = read_texts(texts_file)
    db = sqlite3.connect(where / "fts.db")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(content, tokenize='trigram')")
    started = time.perf_counter()
    db.executemany("INSERT INTO docs(rowid, content) VALUES (?, ?)", enumerate(texts))
    db.commit()
    seconds = time.perf_counter() - started
    latencies, totals, scans, fetched = {}, {}, [], {}
    for text in QUERIES:
        words = text.split()
        started_q = time.perf_counter()
        if all(len(w) >= 3 for w in words):
            table, where_clause = "docs", "docs MATCH ?"
            args = [" AND ".join('"' + w.replace('"', '""') + '"' for w in words)]
            row = "rowid, substr(content, 1, 160)"
        else:
            scans.append(text)
            table, where_clause = "docs_content", " AND ".join("c0 LIKE ?" for _ in words)
            args = [f"%{w}%" for w in words]
            row = "id, substr(c0, 1, 160)"
        totals[text] = db.execute(f"SELECT count(*) FROM {table} WHERE {where_clause}", args).fetchone()[0]
        rows = db.execute(f"SELECT {row} FROM {table} WHERE {where_clause} LIMIT 20", args).fetchall()
        latencies[text] = (time.perf_counter() - started_q) * 1000
        fetched[text] = len(rows)
    plan = db.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM docs_content WHERE c0 LIKE ?", ["%押金%"]).fetchall()
    db.close()
    return {"docs_per_s": len(texts) / seconds, "index_mb": (where / "fts.db").stat().st_size / 2**20,
            "latencies": latencies, "totals": totals, "scans": scans, "fetched": fetched,
            "like_plan": " / ".join(row[-1] for row in plan)}


def summary(latencies: dict[str, float]) -> tuple[float, float]:
    values = list(latencies.values())
    return statistics.median(values), percentile(values, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--procs", type=int, default=2, help="writer processes for the archive's index")
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the archive in DIR and keep it; when DIR already holds one of N documents, "
                             "only the queries run (for trying a change to the search path)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from archive import create_app
    from archive.auth.services import SYSTEM, create_user, ensure_default_departments
    from archive.core.enums import Level, Role
    from archive.core.keys import write_key_check
    from archive.extensions import db

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    built = work / f"built-{args.n}"
    try:
        master_key = work / "master.key"
        if not master_key.exists():
            master_key.write_text(base64.b64encode(os.urandom(32)).decode())
        settings = {"DATABASE_URL": f"sqlite:///{work / 'archive.db'}", "STORAGE_DIR": str(work / "storage"),
                    "MASTER_KEY": master_key.read_text(), "SECRET_KEY": "bench"}
        app = create_app({"SQLALCHEMY_DATABASE_URI": settings["DATABASE_URL"],
                          **{k: v for k, v in settings.items() if k != "DATABASE_URL"}})
        texts_file = work / "texts.json"
        if built.exists():
            with app.app_context():
                ours = bench_archive(app)
            median, p95 = summary(ours["latencies"])
            print(f"archive (kept in {work}): latency median {median:.1f} ms, p95 {p95:.1f} ms, "
                  f"max {max(ours['latencies'].values()):.1f} ms")
            for text in QUERIES:
                print(f"    {text:<16} {ours['latencies'][text]:7.1f} ms  {ours['totals'][text]:>6} visible")
            return
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            write_key_check()
            db.session.commit()
            ensure_default_departments()
            print(f"building {args.n} documents …", file=sys.stderr)
            texts = build_archive(app, args.n, random.Random(20240503))
            create_user(SYSTEM, username="bench-clerk", display_name="检索员", department_code="GMO",
                        roles={Role.CLERK}, clearance=Level.B, password="correct-horse-battery")
            db.session.remove()
        sizes = [len(t.encode()) for t in texts]
        print(f"corpus: {args.n} documents, {statistics.mean(sizes) / 1024:.2f} KB mean "
              f"({min(sizes)}–{max(sizes)} bytes), {len(QUERIES)} queries")
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        del texts, sizes
        print(f"indexing with {args.procs} writer process(es) …", file=sys.stderr)
        indexing_run = reindex({**os.environ, **{f"ARCHIVE_{k}": v for k, v in settings.items()}}, args.procs)
        if args.keep:
            built.touch()
        with app.app_context():
            ours = {**indexing_run, **bench_archive(app)}
        median, p95 = summary(ours["latencies"])
        print(f"archive (bigrams, permission-first, snippets; `archive reindex --procs {args.procs}`): "
              f"{ours['docs_per_s']:.0f} docs/s ({ours['index_seconds']:.1f} s), index {ours['index_mb']:.0f} MB, "
              f"peak memory {ours['peak_mb']:.0f} MB, latency median {median:.1f} ms, p95 {p95:.1f} ms, "
              f"max {max(ours['latencies'].values()):.1f} ms")
        if args.skip_baselines:
            for text in QUERIES:
                print(f"    {text:<16} {ours['latencies'][text]:7.1f} ms  {ours['totals'][text]:>6} visible")
            return
        (work / "plain").mkdir()
        plain = in_own_process(bench_plain_whoosh, texts_file, work / "plain")
        fts = in_own_process(bench_fts5, texts_file, work)
        print(f"    {'query':<16} {'archive':>9} {'visible':>7}  {'plain':>9} {'found':>6}  {'FTS5':>9} {'found':>6}")
        for text in QUERIES:
            print(f"    {text:<16} {ours['latencies'][text]:6.1f} ms {ours['totals'][text]:>7}  "
                  f"{plain['latencies'][text]:6.1f} ms {plain['totals'][text]:>6}  "
                  f"{fts['latencies'][text]:6.1f} ms {fts['totals'][text]:>6}"
                  f"{'  (LIKE scan)' if text in fts['scans'] else ''}")
        for label, other in (("plain Whoosh + jieba", plain), ("SQLite FTS5 trigram", fts)):
            o_median, o_p95 = summary(other["latencies"])
            print(f"{label}: {other['docs_per_s']:.0f} docs/s, index {other['index_mb']:.0f} MB, "
                  f"peak memory {other['peak_mb']:.0f} MB, median {o_median:.1f} ms, p95 {o_p95:.1f} ms — "
                  f"archive/{label.split()[0]} ratios: indexing ×{ours['docs_per_s'] / other['docs_per_s']:.2f}, "
                  f"median ×{median / o_median:.2f}, p95 ×{p95 / o_p95:.2f}")
        print(f"    FTS5 answered {len(fts['scans'])} of {len(QUERIES)} queries by a LIKE scan (words of fewer than "
              f"three characters; plan: {fts['like_plan']}): {', '.join(fts['scans'])}")
        print(f"    FTS5 fetched {sum(fts['fetched'].values())} rows with a passage for the first pages")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

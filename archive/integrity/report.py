"""`archive check --all`: every check the archive has, in one run, kept as report.json and report.pdf.

- the four-property check (四性检测) of every document's current version (each run kept as an IntegrityCheck
  with context "periodic", as DA/T 70 asks for a report per check);
- the audit hash chain;
- the fixity of every stored blob (older versions, texts, receipts, letters: stored bytes against their
  checksum; the current versions were decrypted by the four-property check already) and blobs no row uses;
- the search index (documents missing, stale or deleted: derived data, reported but not a failure).

The PDF is in Chinese with bilingual labels like every printout; the findings are the English source
messages with their parameters, translated into the printout's language.
"""
from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from ..audit.services import verify_chain
from ..core.types import utcnow
from ..documents.models import Document
from ..extensions import db
from ..maintenance.services import verify_blobs
from ..reports.layout import MARGIN, Styles, grid, local_time, numbered_canvas, pairs, printed_at_line
from ..search.indexing import index_problems
from .checks import PROPERTIES, finding_text, four_property_check
from .models import CheckContext

REPORT_LOCALE = "zh_Hans"
LISTED = 200  # failures listed by name in each section; the counts are always complete
PROPERTY_LABELS = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}


@dataclass
class CheckAllReport:
    generated_at: datetime
    documents_checked: int = 0
    document_failures: list[dict[str, Any]] = field(default_factory=list)
    audit_events: int = 0
    audit_break: str | None = None
    blobs_checked: int = 0
    blob_problems: list[str] = field(default_factory=list)
    orphaned_blobs: int = 0
    index_missing: int = 0
    index_stale: int = 0
    index_orphaned: int = 0

    @property
    def ok(self) -> bool:
        return not (self.document_failures or self.audit_break or self.blob_problems)


def check_all(progress=lambda done: None) -> CheckAllReport:
    """Run everything; each document's check is stored and audited (its own short transaction)."""
    report = CheckAllReport(generated_at=utcnow())
    ids = list(db.session.scalars(sa.select(Document.id).where(Document.disposed_at.is_(None)).order_by(Document.id)))
    for document_id in ids:
        document = db.session.get(Document, document_id)
        if document.current_version is None:
            continue
        outcome = four_property_check(document, context=CheckContext.PERIODIC)
        report.documents_checked += 1
        if not outcome.ok:
            report.document_failures.append({
                "archive_number": document.archive_number, "version": document.current_version.version,
                "failed": [name for name in PROPERTIES if not outcome.results[name]["ok"]],
                "findings": [{"property": name, **finding} for name, finding in outcome.failures],
                "check": outcome.check_id,
            })
        progress(report.documents_checked)
    report.audit_events, chain_break = verify_chain()
    if chain_break is not None:
        report.audit_break = f"event {chain_break.seq}: {chain_break.reason}"
    blobs = verify_blobs(decrypt=False, progress=lambda checked: None)
    report.blobs_checked, report.blob_problems, report.orphaned_blobs = blobs.checked, blobs.problems, len(blobs.orphans)
    missing, stale, orphaned = index_problems()
    report.index_missing, report.index_stale, report.index_orphaned = len(missing), len(stale), len(orphaned)
    return report


def write_report(report: CheckAllReport, directory: Path) -> tuple[Path, Path]:
    """report.json (everything, machine-readable) and report.pdf (the printout) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    as_json, as_pdf = directory / "report.json", directory / "report.pdf"
    content = {"ok": report.ok, **asdict(report), "generated_at": report.generated_at.isoformat(timespec="seconds")}
    as_json.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    as_pdf.write_bytes(report_pdf(report))
    return as_json, as_pdf


def report_pdf(report: CheckAllReport) -> bytes:
    styles, width = Styles(), A4[0] - 2 * MARGIN
    verdict = "通过 Passed" if report.ok else "未通过 Failed"
    story: list[Any] = [
        Paragraph("档案四性检测报告 Integrity check report", styles.title),
        pairs([
            ("结论 Result", verdict),
            ("生成时间 Generated", local_time(report.generated_at)),
            ("文件检测 Documents checked", f"{report.documents_checked}（未通过 failed {len(report.document_failures)}）"),
            ("审计链 Audit chain", f"{report.audit_events} 条事件 events，"
                                 + ("完整 intact" if report.audit_break is None else f"断裂 broken at {report.audit_break}")),
            ("存储文件 Stored blobs", f"{report.blobs_checked} 已校验 checked，{len(report.blob_problems)} 损坏 damaged，"
                                    f"{report.orphaned_blobs} 无主 unreferenced"),
            ("检索索引 Search index", f"缺失 missing {report.index_missing}，过期 stale {report.index_stale}，"
                                    f"多余 deleted {report.index_orphaned}"),
        ], styles, width, label_share=0.25),
        Spacer(0, 5 * mm),
    ]
    if report.document_failures:
        story.append(Paragraph("未通过的文件 Documents that failed", styles.heading))
        rows = [[styles.header("档号", "Archive number"), styles.header("版本", "Version"),
                 styles.header("未通过", "Failed"), styles.header("问题", "Findings")]]
        with force_locale(REPORT_LOCALE):
            for failure in report.document_failures[:LISTED]:
                rows.append([
                    styles.p(failure["archive_number"]), styles.p(failure["version"]),
                    styles.p("、".join(PROPERTY_LABELS[name] for name in failure["failed"])),
                    styles.p("\n".join(finding_text(finding) for finding in failure["findings"])),
                ])
        story.append(grid(rows, [width * 0.27, width * 0.08, width * 0.15, width * 0.50]))
        story.append(Spacer(0, 5 * mm))
    if report.blob_problems:
        story.append(Paragraph("损坏或缺失的存储文件 Damaged or missing stored blobs", styles.heading))
        story.append(grid([[styles.header("问题", "Problem")]]
                          + [[styles.p(problem)] for problem in report.blob_problems[:LISTED]], [width]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                 bottomMargin=MARGIN, title="Integrity check report")
    document.build(story, canvasmaker=numbered_canvas(footer=printed_at_line()))
    return buffer.getvalue()


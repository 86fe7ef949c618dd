"""The loan slip (借阅审批单): the request, each item, each approval and the issue and return record, in
Chinese that renders, with local (Shanghai) times and page numbers."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

from flask_babel import force_locale
from PIL import Image
from pypdf import PdfReader

from archive.auth.services import department_by_code
from archive.core.enums import Level, Role
from archive.extensions import db
from archive.loans.models import (
    Decision,
    ItemState,
    Loan,
    LoanItem,
    LoanStatus,
    LoanStep,
    LoanUse,
    StepKind,
    StepReason,
)
from archive.loans.slip import loan_slip_pdf

UTC = timezone.utc
LOOK_AT = Path("/tmp/loans-slip.png")  # kept for a human to look at


def in_chinese(member) -> str:
    """An enum member's label as the slip prints it, in Chinese whoever reads."""
    with force_locale("zh_Hans"):
        return member.label


def pdf_text(pdf: bytes) -> tuple[int, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), [page.extract_text() for page in reader.pages]


def squeeze(text: str) -> str:
    """Table cells wrap: compare without the line breaks and spaces a wrap puts inside a value."""
    return re.sub(r"\s+", "", text)


def paper_loan(factory, *, documents: int = 3) -> Loan:
    """A reading-room loan of a B-level request from another department: approved by the archive and the
    owning department's head, issued, and partly returned (one item damaged)."""
    borrower = factory.user("wang-xm", roles=(Role.CLERK,), department="CSC", clearance=Level.B)
    borrower.display_name = "王小明"
    archivist = factory.user("li-archivist", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
    archivist.display_name = "李档案"
    head = factory.user("zhao-head", roles=(Role.DEPT_HEAD,), department="SALES", clearance=Level.A)
    head.display_name = "赵经理"
    dossier = factory.dossier()
    titles = ["商品房买卖合同（预售）补充协议之三：关于车位、储藏室及装修标准的约定", "认购书", "收款收据"]
    docs = [factory.document(dossier, title=titles[i % 3] if i < 3 else f"维修记录 {i}",
                             level=Level.B if i == 0 else Level.C)
            for i in range(documents)]
    loan = Loan(
        number="JY-2026-00012", borrower=borrower, department=borrower.department, purpose="核对业主退房纠纷材料",
        use=LoanUse.READING_ROOM, start_date=date(2026, 11, 23), due_date=date(2026, 11, 27),
        status=LoanStatus.ISSUED, level=Level.B,
        submitted_at=datetime(2026, 11, 22, 1, 5, tzinfo=UTC),
        decided_at=datetime(2026, 11, 22, 6, 40, tzinfo=UTC),
        issued_at=datetime(2026, 11, 23, 1, 30, tzinfo=UTC), issued_by=archivist,
        note="第 2 件归还时封面破损，待修复后结清。",
    )
    loan.steps = [
        LoanStep(kind=StepKind.ARCHIVE, reason=StepReason.EVERY_LOAN, decision=Decision.APPROVED,
                 decided_by=archivist, decided_at=datetime(2026, 11, 22, 2, 15, tzinfo=UTC), comment="同意借阅"),
        LoanStep(kind=StepKind.DEPARTMENT_HEAD, department=department_by_code("SALES"),
                 reason=StepReason.CROSS_DEPARTMENT, decision=Decision.APPROVED, decided_by=head,
                 decided_at=datetime(2026, 11, 22, 6, 40, tzinfo=UTC), comment="限阅览室内查阅，不得复印"),
    ]
    loan.items = [LoanItem(document=doc, state=ItemState.OUT, pages_issued=doc.page_count,
                           issued_at=loan.issued_at) for doc in docs]
    first, second = loan.items[0], loan.items[1]
    first.state, first.pages_returned = ItemState.RETURNED, first.pages_issued
    first.returned_at, first.checked_by = datetime(2026, 11, 25, 8, 50, tzinfo=UTC), archivist
    second.state, second.pages_returned, second.note = ItemState.DAMAGED, second.pages_issued, "封面撕裂"
    second.returned_at, second.checked_by = datetime(2026, 11, 25, 8, 52, tzinfo=UTC), archivist
    db.session.add(loan)
    db.session.commit()
    return loan


def test_the_slip_shows_the_request_items_approvals_and_returns(factory, time_machine):
    time_machine.move_to(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), tick=False)
    loan = paper_loan(factory)
    pages, texts = pdf_text(loan_slip_pdf(loan))
    text = "\n".join(texts)
    flat = squeeze(text)

    assert pages == 1
    for expected in ("借阅审批单", "JY-2026-00012", "王小明 (wang-xm)", loan.department.name,
                     "核对业主退房纠纷材料", "2026-11-23 至 2026-11-27"):
        assert expected in text
    for label in (in_chinese(loan.level), in_chinese(loan.use), in_chinese(loan.status)):
        assert squeeze(label) in flat
    # Every item, by archive number, with its title (wrapped in its cell) and page count.
    for item in loan.items:
        assert item.document.archive_number in flat
        assert squeeze(item.document.title) in flat
    # Every approval: who, when (Shanghai time, UTC+8), the decision and what they wrote.
    assert flat.count(squeeze(in_chinese(Decision.APPROVED))) >= 2
    assert squeeze(in_chinese(StepKind.DEPARTMENT_HEAD)) in flat
    for name, when, comment in (("李档案 (li-archivist)", "2026-11-22 10:15", "同意借阅"),
                                ("赵经理 (zhao-head)", "2026-11-22 14:40", "限阅览室内查阅，不得复印")):
        assert squeeze(name) in flat and squeeze(when) in flat and squeeze(comment) in flat
    assert department_by_code("SALES").name in text  # the owning department whose head approved
    # Issue and return: issued at / by, the damaged item's note, the check times, the loan's note.
    assert "2026-11-23 09:30" in text
    assert "2026-11-25 16:50" in text and "2026-11-25 16:52" in text
    assert "封面撕裂" in text
    for state in (ItemState.RETURNED, ItemState.DAMAGED, ItemState.OUT):
        assert squeeze(in_chinese(state)) in flat
    assert squeeze("第 2 件归还时封面破损，待修复后结清。") in flat
    assert "2026-11-22 09:05" in text  # submitted
    assert "Printed at 2026-11-25 17:00 (Asia/Shanghai)" in text
    assert "Page 1 of 1" in text


def test_the_slip_is_the_same_whichever_language_the_reader_uses(factory, app, time_machine):
    time_machine.move_to(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), tick=False)
    loan = paper_loan(factory)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english_reader = pdf_text(loan_slip_pdf(loan))[1]
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        chinese_reader = pdf_text(loan_slip_pdf(loan))[1]
    assert english_reader == chinese_reader


def test_a_rejected_request_shows_the_rejection_and_the_step_left_pending(factory):
    loan = paper_loan(factory)
    loan.status, loan.issued_at, loan.issued_by, loan.note = LoanStatus.REJECTED, None, None, ""
    for item in loan.items:
        item.state, item.pages_issued, item.pages_returned, item.returned_at = ItemState.WAITING, None, None, None
        item.note, item.checked_by = "", None
    archive_step, head_step = loan.steps
    head_step.decision, head_step.comment = Decision.REJECTED, "与本次纠纷无关，不予借阅"
    archive_step.decision = archive_step.decided_by = archive_step.decided_at = None
    archive_step.comment = ""
    db.session.commit()

    text = "\n".join(pdf_text(loan_slip_pdf(loan))[1])
    assert "待审批Pending" in squeeze(text)
    assert squeeze(in_chinese(Decision.REJECTED)) in squeeze(text)
    assert squeeze("与本次纠纷无关，不予借阅") in squeeze(text)
    assert "2026-11-22 14:40" in text
    assert "2026-11-22 10:15" not in text


def test_a_long_slip_numbers_its_pages_and_renders_readable_chinese(factory, tmp_path):
    loan = paper_loan(factory, documents=40)
    pdf = loan_slip_pdf(loan)
    pages, texts = pdf_text(pdf)
    assert pages >= 2
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text and f"第 {number} 页 / 共 {pages} 页" in text
    flat = squeeze("".join(texts))
    assert all(item.document.archive_number in flat for item in loan.items)

    source = tmp_path / "slip.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(tmp_path / "slip")], check=True)
    page = Image.open(tmp_path / "slip.png").convert("L")
    page.save(LOOK_AT)
    histogram = page.histogram()
    assert sum(histogram[:128]) > 0.005 * page.width * page.height  # text and table rules, not a blank page

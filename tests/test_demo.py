"""`archive demo`: a realistic archive loaded through the real services, once, with a log-in per role."""
from __future__ import annotations

import io
import re
from collections import Counter

import sqlalchemy as sa
from pypdf import PdfReader

from archive.auth import services as auth
from archive.auth.models import User
from archive.core.enums import Category, Level, LinkReason, UnitKind
from archive.demo import data
from archive.demo.kinds import KINDS
from archive.demo.render import render
from archive.documents import services as documents
from archive.documents.ingest import JPEG, PDF, check_file
from archive.documents.models import Document, FileVersion
from archive.extensions import db
from archive.search import indexing, services as search
from archive.units import services as units
from archive.units.models import DossierLink, Occupancy, Project, Unit

SMALL_DEMO = ["demo", "--documents-per-category", "2"]
LOGINS = ("demo-clerk", "demo-legal", "demo-head", "demo-archivist", "demo-archive-head", "demo-compliance",
          "demo-admin")


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _printed_password(output: str, username: str) -> str:
    match = re.search(rf"^\s+{re.escape(username)}\s+password: (\S+)", output, re.MULTILINE)
    assert match, f"no password printed for {username}"
    return match.group(1)


def _document_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Document))


def test_demo_loads_a_realistic_archive(runner):
    result = runner.invoke(args=SMALL_DEMO)

    assert result.exit_code == 0, result.output
    assert "Loaded the demo archive in" in result.output
    for login in LOGINS:
        _printed_password(result.output, login)
    filed = db.session.execute(sa.select(Document.category, Document.level, Document.department_id)).all()
    assert len(filed) == 2 * len(Category)
    assert {row.category for row in filed} == set(Category)
    assert {row.level for row in filed} == set(Level)
    assert len({row.department_id for row in filed}) >= 3

    # Dossiers: homes, then shops, then parking, then the litigation file; history and cross-references.
    head = _user("demo-archive-head")
    project = db.session.scalar(sa.select(Project).where(Project.code == "LJY"))
    listed = units.list_dossiers(head, project_id=project.id, per_page=200).items
    kinds = [d.unit.kind if d.unit else None for d in listed]
    order = {UnitKind.RESIDENTIAL: 0, UnitKind.SHOP: 1, UnitKind.PARKING: 2, None: 3}
    assert [order[k] for k in kinds] == sorted(order[k] for k in kinds)
    assert Counter(kinds) == {UnitKind.RESIDENTIAL: 16, UnitKind.SHOP: 6, UnitKind.PARKING: 2, None: 1}
    assert set(db.session.scalars(sa.select(DossierLink.reason))) == {LinkReason.SAME_CUSTOMER, LinkReason.LITIGATION}
    transferred = db.session.scalars(
        sa.select(Occupancy).join(Unit).where(Unit.name == "1单元1501").order_by(Occupancy.start_date)).all()
    assert [o.end_date is not None for o in transferred] == [True, False]
    assert transferred[0].customer_id != transferred[1].customer_id

    # A filed contract decrypts to a PDF that reads as its title says.
    contract = db.session.scalar(sa.select(Document).join(FileVersion).where(
        FileVersion.media_type == PDF, Document.category == Category.QY).limit(1))
    sent = documents.open_file(head, contract.id)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(sent.stream.read())).pages)
    heading = contract.title.split("（")[0]
    assert re.fullmatch(r"[\u4e00-\u9fff]+", heading)
    assert heading in text and "丽景苑" in text


def test_second_run_changes_nothing_and_says_so(runner):
    first = runner.invoke(args=SMALL_DEMO)
    documents_before = _document_count()
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))

    second = runner.invoke(args=SMALL_DEMO)

    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert "password:" not in second.output
    assert _printed_password(first.output, "demo-clerk") not in second.output
    assert _document_count() == documents_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before


def test_demo_clerk_logs_in_and_finds_only_sales_c_documents(runner):
    result = runner.invoke(args=SMALL_DEMO)
    clerk = auth.authenticate("demo-clerk", _printed_password(result.output, "demo-clerk"), "127.0.0.1")
    assert clerk is not None

    indexing.rebuild()  # the worker's job; no worker runs here
    found = search.search(clerk, search.SearchQuery(), per_page=200)

    sales = auth.department_by_code("SALES")
    assert found.total > 0
    assert {(hit.document.department_id, hit.document.level) for hit in found.hits} == {(sales.id, Level.C)}
    sales_c = db.session.scalar(sa.select(sa.func.count()).select_from(Document).where(
        Document.department_id == sales.id, Document.level == Level.C))
    assert found.total == sales_c
    assert found.total < _document_count()


def test_demo_refuses_when_a_demo_login_belongs_to_someone_else(runner, factory):
    factory.user("demo-clerk", roles=("archivist",), department="GMO")

    result = runner.invoke(args=SMALL_DEMO)

    assert result.exit_code != 0
    assert "demo-clerk" in result.output
    assert db.session.scalar(sa.select(Project.id).where(Project.code == "LJY")) is None


def test_every_kind_of_paper_renders_to_a_file_the_archive_accepts():
    plan = data.build_plan(24)
    first_of_kind = {}
    for doc in plan.documents:
        first_of_kind.setdefault(doc.kind, doc)
    assert set(first_of_kind) == {kind for kinds in KINDS.values() for kind in kinds}

    media = Counter()
    for doc in first_of_kind.values():
        content = render(doc)
        checked = check_file(doc.filename, io.BytesIO(content), 5 * 1024 * 1024)
        media[checked.media_type] += 1
        if checked.media_type == PDF:
            text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
            assert doc.title.split("（")[0] in text, doc.title
    assert media[PDF] > 50 and media[JPEG] >= 2


def test_demo_customers_are_made_up_but_well_formed():
    customers = data.build_plan(1).customers
    people = [c for c in customers if c.kind.value == "person"]

    assert len({c.id_number for c in customers}) == len(customers)
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for person in people:
        assert re.fullmatch(r"440300(19[6-9]\d)\d{7}[\dX]", person.id_number)
        check = "10X98765432"[sum(int(d) * w for d, w in zip(person.id_number, weights)) % 11]
        assert person.id_number[-1] == check
    assert all(re.fullmatch(r"138\d{8}", c.phone) for c in customers)

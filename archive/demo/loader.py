"""Loading the demo plan through the real services, as the people of the demo, so archive numbers,
encryption and the audit trail are exactly what real use produces."""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..auth import services as auth
from ..auth.models import Department, User
from ..core.enums import Carrier, Category, CustomerKind, Level, Role, UnitKind
from ..core.permissions import policy
from ..documents import services as documents
from ..documents.models import Document
from ..extensions import db
from ..units import services as units
from ..units.models import Dossier, DossierLink, Project
from . import data
from .kinds import LITIGATION
from .render import render


class DemoUnavailable(RuntimeError):
    """The instance is not ready for the demo (not initialised, or a demo login is used otherwise)."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    department: str
    role: Role
    clearance: Level
    sees: str  # what the policy lets this person read, in a few words


DEMO_USERS = (
    DemoUser("demo-clerk", data.STAFF["sales_agent"], "SALES", Role.CLERK, Level.C,
             "the sales group's C documents"),
    DemoUser("demo-legal", data.STAFF["legal_agent"], "LEGAL", Role.CLERK, Level.B,
             "the legal office's documents up to B, and those it is in the knowledge scope of"),
    DemoUser("demo-head", data.STAFF["ca_agent"], "CA", Role.DEPT_HEAD, Level.B,
             "customer affairs' contract, certificate and move-in papers up to B"),
    DemoUser("demo-archivist", data.STAFF["archivist"], "GMO", Role.ARCHIVIST, Level.B,
             "every department's documents up to B"),
    DemoUser("demo-archive-head", "邓国华", "GMO", Role.ARCHIVE_HEAD, Level.A,
             "every document, A included"),
    DemoUser("demo-compliance", "谢敏", "GMO", Role.COMPLIANCE, Level.B,
             "every department's documents up to B, read-only, and the audit trail"),
    DemoUser("demo-admin", "周立新", "GMO", Role.ADMIN, Level.C,
             "no documents: users, keys and backups only"),
)


@dataclass
class Login:
    user: DemoUser
    password: str | None  # None when the account existed before this run
    visible: int = 0


@dataclass
class DemoReport:
    units: Counter[UnitKind] = field(default_factory=Counter)
    customers: int = 0
    companies: int = 0
    occupancies: int = 0
    cross_references: int = 0
    litigation_number: str = ""
    documents: Counter[tuple[Category, Level]] = field(default_factory=Counter)
    departments: Counter[str] = field(default_factory=Counter)
    scans: int = 0
    paper: int = 0
    logins: list[Login] = field(default_factory=list)

    @property
    def total_documents(self) -> int:
        return sum(self.documents.values())


def demo_project() -> Project | None:
    return db.session.scalar(sa.select(Project).where(Project.code == data.PROJECT_CODE))


def existing_logins() -> list[str]:
    names = [u.username for u in DEMO_USERS]
    return list(db.session.scalars(sa.select(User.username).where(User.username.in_(names)).order_by(User.username)))


def _check_ready() -> None:
    codes = set(db.session.scalars(sa.select(Department.code)))
    missing = sorted({code for code, *_ in auth.DEFAULT_DEPARTMENTS} - codes)
    if missing:
        raise DemoUnavailable(f"Departments {', '.join(missing)} are missing: run `archive init` first.")


def _account(spec: DemoUser) -> tuple[User, str | None]:
    """The demo account, created with a fresh password, or the one a broken earlier run left behind."""
    user = db.session.scalar(sa.select(User).where(User.username == spec.username))
    if user is None:
        return auth.create_user(auth.SYSTEM, username=spec.username, display_name=spec.display_name,
                                department_code=spec.department, roles={spec.role}, clearance=spec.clearance)
    if user.department.code != spec.department or spec.role not in user.roles or user.clearance != spec.clearance:
        raise DemoUnavailable(f"The login {spec.username} exists with another department, role or clearance; "
                              "rename it before loading the demo.")
    return user, None


def load_demo(documents_per_category: int, progress=lambda message: None) -> DemoReport:
    """Create the demo archive. The caller checks first that it is not loaded yet (`demo_project`)."""
    _check_ready()
    plan = data.build_plan(documents_per_category)
    report = DemoReport()
    accounts = {}
    for spec in DEMO_USERS:
        user, password = _account(spec)
        accounts[spec.username] = user
        report.logins.append(Login(spec, password))
    head = accounts["demo-archive-head"]
    # Each department's own person files its papers when their clearance allows; the archive files the rest.
    filers = {"SALES": accounts["demo-clerk"], "CA": accounts["demo-head"], "LEGAL": accounts["demo-legal"],
              "GMO": accounts["demo-archivist"]}

    progress("project, buildings and units")
    project = units.create_project(head, data.PROJECT_CODE, data.PROJECT_NAME, data.PROJECT_ADDRESS)
    dossiers: dict[str, int] = {}
    for code, name in data.BUILDINGS:
        building = units.add_building(head, project.id, code, name)
        specs = [units.UnitSpec(u.code, u.name, u.kind, u.floor, u.area_m2) for u in plan.units if u.building == code]
        for unit in units.add_units(head, building.id, specs):
            dossiers[f"{code}/{unit.code}"] = unit.dossier.id
            report.units[unit.kind] += 1

    progress("customers and who held which unit when")
    customers = {c.key: units.register_customer(head, c.name, c.kind, c.id_number, c.phone).id for c in plan.customers}
    report.customers = len(customers)
    report.companies = sum(1 for c in plan.customers if c.kind is CustomerKind.COMPANY)
    for holding in sorted(plan.holdings, key=lambda h: h.start):
        occupancy = units.add_occupancy(head, dossiers[holding.unit_key], customers[holding.customer_key],
                                        holding.role, holding.start)
        if holding.end:
            units.end_occupancy(head, occupancy.id, holding.end)
        report.occupancies += 1
    litigation = units.create_litigation_file(head, dossiers[data.LITIGATION_UNIT], plan.litigation_title)
    report.litigation_number = litigation.archive_number

    progress(f"{len(plan.documents)} documents")
    departments = {d.code: d.id for d in auth.list_departments()}
    # Filed in date order, so each dossier's sequence numbers follow the papers' dates.
    for doc in sorted(plan.documents, key=lambda d: (d.doc_date, d.category.value)):
        filer = filers.get(doc.department)
        if filer is None or filer.clearance.rank < doc.level.rank:
            filer = head
        meta = documents.DocumentMetadata(
            category=doc.category, title=doc.title, responsible_party=doc.responsible_party, doc_date=doc.doc_date,
            department_id=departments[doc.department], level=doc.level, doc_number=doc.doc_number,
            is_original=doc.is_original, carrier=doc.carrier, location_room=doc.location[0],
            location_box=doc.location[1], location_shelf=doc.location[2], remarks=doc.remarks,
            scope_department_ids=[departments[code] for code in doc.scope],
        )
        dossier_id = litigation.id if doc.filed_in == LITIGATION else dossiers[doc.unit_key]
        documents.file_documents(filer, dossier_id, meta, [documents.Upload(doc.filename, io.BytesIO(render(doc)))])
        report.documents[(doc.category, doc.level)] += 1
        report.departments[doc.department] += 1
        report.scans += doc.scan
        report.paper += doc.carrier is Carrier.PAPER

    project_dossiers = sa.select(Dossier.id).where(Dossier.project_id == project.id)
    report.cross_references = db.session.scalar(
        sa.select(sa.func.count()).select_from(DossierLink).where(DossierLink.from_dossier_id.in_(project_dossiers)))
    for login in report.logins:
        user = accounts[login.user.username]
        login.visible = db.session.scalar(
            sa.select(sa.func.count()).select_from(Document).where(policy.where(user, "read", Document)))
    return report

"""Projects, buildings and units with their dossiers; customers, occupancy and cross-references."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString, lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, selectinload

from ..audit import services as audit
from ..core.clock import local_today
from ..core.enums import CustomerKind, DossierKind, LinkReason, OccupancyRole, UnitKind
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.keys import keyring
from ..core.permissions import policy
from ..core.uow import unit_of_work
from ..documents import services as document_services
from ..documents.numbering import dossier_number, litigation_number
from ..extensions import db
from ..search.indexing import schedule_unit_index
from .models import Building, Customer, Dossier, DossierLink, Occupancy, Project, Unit

CODE_PATTERN = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")
ID_NUMBER_CONTEXT, PHONE_CONTEXT = "customer.id_number", "customer.phone"


def _code(value: str, what: LazyString) -> str:
    """`what` is lazily translated: it is filled into the error message in the reader's language."""
    value = value.strip().upper()
    if not CODE_PATTERN.fullmatch(value) or len(value) > 20:
        raise ValidationError("%(what)s code %(code)s: use letters and digits joined by '-'.", what=what, code=value)
    return value


def list_projects(identity) -> list[Project]:
    policy.require(identity, "browse_dossiers")
    return list(db.session.scalars(sa.select(Project).order_by(Project.code)))


def get_project(identity, project_id: int) -> Project:
    return policy.fetch(identity, "read", Project, project_id)


def project_units(identity, project_id: int) -> list[Unit]:
    """A project's units, building by building, with their dossiers: the register, seen by whoever sees the
    project (a dossier's content is asked for on its own)."""
    project = get_project(identity, project_id)
    return list(db.session.scalars(
        sa.select(Unit).join(Building, Unit.building_id == Building.id).where(Building.project_id == project.id)
        .order_by(Building.code, Unit.code).options(selectinload(Unit.dossier))))


def create_project(identity, code: str, name: str, address: str = "") -> Project:
    policy.require(identity, "create_project")
    code = _code(code, _l("Project"))
    if not name.strip():
        raise ValidationError("A project needs a name.")
    with unit_of_work():
        if db.session.scalar(sa.select(Project.id).where(Project.code == code)):
            raise Conflict("A project with code %(code)s already exists.", code=code)
        project = Project(code=code, name=name.strip(), address=address.strip())
        db.session.add(project)
        db.session.flush()
        audit.record("project.create", actor=identity, obj=project, code=code, name=project.name)
    return project


def set_move_in_date(identity, project_id: int, day: date | None) -> Project:
    """Record the collective move-in (集中入伙): it starts the clock of the contract papers' handover."""
    project = policy.fetch(identity, "manage", Project, project_id)
    with unit_of_work():
        old, project.move_in_date = project.move_in_date, day
        if old != day:
            audit.record("project.move_in", actor=identity, obj=project, old=_iso(old), new=_iso(day))
    return project


def record_case_closed(identity, dossier_id: int, day: date) -> Dossier:
    """A litigation file's case is closed: its papers are then due to the archive (DOMAIN.md, SS)."""
    dossier = policy.fetch(identity, "close_case", Dossier, dossier_id)
    if dossier.kind is not DossierKind.LITIGATION:
        raise ValidationError("Only a litigation file has a case to close.")
    if day > local_today():
        raise ValidationError("A case cannot be closed on a future date.")
    with unit_of_work():
        old, dossier.closed_on = dossier.closed_on, day
        if old != day:
            audit.record("dossier.case_closed", actor=identity, obj=dossier, old=_iso(old), new=_iso(day))
    return dossier


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def add_building(identity, project_id: int, code: str, name: str) -> Building:
    project = get_project(identity, project_id)
    policy.require(identity, "manage", project)
    code = _code(code, _l("Building"))
    with unit_of_work():
        if db.session.scalar(sa.select(Building.id).where(Building.project_id == project.id, Building.code == code)):
            raise Conflict("Building %(code)s already exists in this project.", code=code)
        building = Building(project=project, code=code, name=name.strip() or code)
        db.session.add(building)
        db.session.flush()
        audit.record("building.create", actor=identity, obj=building, project=project.code, code=code)
    return building


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: UnitKind = UnitKind.RESIDENTIAL
    floor: int | None = None
    area_m2: float | None = None


def add_units(identity, building_id: int, specs: list[UnitSpec]) -> list[Unit]:
    """Add units to a building, each with its one dossier (一户一档) and archive number."""
    building = db.session.get(Building, building_id)
    if building is None:
        raise NotFound("Not found.")
    policy.require(identity, "manage", building.project)
    if not specs:
        raise ValidationError("Give at least one unit.")
    codes = [_code(s.code, _l("Unit")) for s in specs]
    if len(set(codes)) != len(codes):
        raise ValidationError("A unit code appears twice in the list.")
    units = []
    with unit_of_work():
        taken = set(db.session.scalars(sa.select(Unit.code).where(Unit.building_id == building.id, Unit.code.in_(codes))))
        if taken:
            raise Conflict("These units already exist: %(codes)s", codes=", ".join(sorted(taken)))
        for spec, code in zip(specs, codes):
            unit = Unit(building=building, code=code, name=spec.name.strip() or code, kind=spec.kind,
                        floor=spec.floor, area_m2=spec.area_m2)
            db.session.add(unit)
            number = dossier_number(building.project.code, building.code, code)
            dossier = Dossier(kind=DossierKind.UNIT, project_id=building.project_id, unit=unit,
                              archive_number=number, title=f"{building.project.name} {building.name}{unit.name}")
            db.session.add(dossier)
            units.append(unit)
        db.session.flush()
        audit.record("units.create", actor=identity, obj=building, units=codes)
    return units


def create_litigation_file(identity, unit_dossier_id: int, title: str) -> Dossier:
    """A litigation file kept apart (5.5.2), cross-referenced both ways with the unit's dossier."""
    unit_dossier = get_dossier(identity, unit_dossier_id, audited=False)
    policy.require(identity, "link", unit_dossier)
    if not title.strip():
        raise ValidationError("A litigation file needs a title.")
    with unit_of_work():
        litigation = Dossier(kind=DossierKind.LITIGATION, project_id=unit_dossier.project_id,
                             archive_number=litigation_number(unit_dossier.project.code), title=title.strip())
        db.session.add(litigation)
        db.session.flush()
        db.session.add(DossierLink(from_dossier_id=unit_dossier.id, to_dossier_id=litigation.id,
                                   reason=LinkReason.LITIGATION, created_by_id=identity.id))
        audit.record("dossier.create_litigation", actor=identity, obj=litigation, unit_dossier=unit_dossier.archive_number)
    return litigation


def link_dossiers(identity, from_id: int, to_id: int, reason: LinkReason, note: str = "") -> DossierLink:
    source = get_dossier(identity, from_id, audited=False)
    target = get_dossier(identity, to_id, audited=False)
    policy.require(identity, "link", source)
    if source.id == target.id:
        raise ValidationError("A dossier cannot refer to itself.")
    with unit_of_work():
        existing = db.session.scalar(sa.select(DossierLink.id).where(
            sa.or_(sa.and_(DossierLink.from_dossier_id == source.id, DossierLink.to_dossier_id == target.id),
                   sa.and_(DossierLink.from_dossier_id == target.id, DossierLink.to_dossier_id == source.id))))
        if existing:
            raise Conflict("These dossiers already refer to each other.")
        link = DossierLink(from_dossier_id=source.id, to_dossier_id=target.id, reason=reason,
                           note=note.strip()[:300], created_by_id=identity.id)
        db.session.add(link)
        db.session.flush()
        audit.record("dossier.link", actor=identity, obj=source, to=target.archive_number, reason=reason.value)
    return link


def mask(value: str, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def normalise_id_number(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def register_customer(identity, name: str, kind: CustomerKind = CustomerKind.PERSON,
                      id_number: str = "", phone: str = "") -> Customer:
    """ID number and phone are sealed with the master key; only masked forms are kept readable."""
    policy.require(identity, "register_customer")
    if not name.strip():
        raise ValidationError("A customer needs a name.")
    ring = keyring()
    customer = Customer(kind=kind, name=name.strip())
    id_number = normalise_id_number(id_number)
    if id_number:
        customer.id_number_sealed = ring.seal_value(id_number, ID_NUMBER_CONTEXT)
        customer.id_number_index = ring.blind_index(id_number, ID_NUMBER_CONTEXT)
        customer.id_number_masked = mask(id_number, 4, 4)
    phone = re.sub(r"[\s-]", "", phone)
    if phone:
        customer.phone_sealed = ring.seal_value(phone, PHONE_CONTEXT)
        customer.phone_masked = mask(phone, 3, 4)
    with unit_of_work():
        if id_number and db.session.scalar(sa.select(Customer.id).where(
                Customer.id_number_index.in_(ring.blind_indexes(id_number, ID_NUMBER_CONTEXT)))):
            raise Conflict("A customer with this ID number is already registered.")
        db.session.add(customer)
        db.session.flush()
        audit.record("customer.create", actor=identity, obj=customer, name=customer.name)
    return customer


def find_customer_by_id_number(identity, id_number: str) -> Customer | None:
    policy.require(identity, "register_customer")
    indexes = keyring().blind_indexes(normalise_id_number(id_number), ID_NUMBER_CONTEXT)
    return db.session.scalar(sa.select(Customer).where(Customer.id_number_index.in_(indexes)))


def search_customers(identity, name: str, limit: int = 20) -> list[Customer]:
    policy.require(identity, "browse_dossiers")
    if not name.strip():
        return []
    return list(db.session.scalars(
        sa.select(Customer).where(Customer.name.contains(name.strip(), autoescape=True)).order_by(Customer.name).limit(limit)))


def add_occupancy(identity, dossier_id: int, customer_id: int, role: OccupancyRole, start: date) -> Occupancy:
    """A new owner or tenant of the unit; the dossier follows every change of ownership (5.1.1)."""
    dossier = get_dossier(identity, dossier_id, audited=False)
    policy.require(identity, "register_occupancy", dossier)
    customer = db.session.get(Customer, customer_id)
    if customer is None or dossier.unit_id is None:
        raise ValidationError("Choose a registered customer for a unit's dossier.")
    with unit_of_work() as uow:
        occupancy = Occupancy(unit_id=dossier.unit_id, customer_id=customer.id, role=role, start_date=start)
        db.session.add(occupancy)
        db.session.flush()
        audit.record("occupancy.start", actor=identity, obj=dossier, customer=customer.name, role=role.value,
                     start=start.isoformat())
        _link_same_customer(identity, dossier, customer)
        unit_id = dossier.unit_id
        uow.after_commit(lambda: schedule_unit_index(unit_id))
    return occupancy


def _link_same_customer(identity, dossier: Dossier, customer: Customer) -> None:
    """Dossiers of units held by the same customer point to each other (5.1.3)."""
    others = db.session.scalars(
        sa.select(Dossier).join(Occupancy, Occupancy.unit_id == Dossier.unit_id)
        .where(Occupancy.customer_id == customer.id, Dossier.id != dossier.id).distinct())
    for other in others:
        exists = db.session.scalar(sa.select(DossierLink.id).where(
            sa.or_(sa.and_(DossierLink.from_dossier_id == dossier.id, DossierLink.to_dossier_id == other.id),
                   sa.and_(DossierLink.from_dossier_id == other.id, DossierLink.to_dossier_id == dossier.id))))
        if not exists:
            db.session.add(DossierLink(from_dossier_id=dossier.id, to_dossier_id=other.id,
                                       reason=LinkReason.SAME_CUSTOMER, note=customer.name, created_by_id=identity.id))


def end_occupancy(identity, occupancy_id: int, end: date) -> Occupancy:
    occupancy = db.session.get(Occupancy, occupancy_id)
    if occupancy is None or occupancy.unit.dossier is None:
        raise NotFound("Not found.")
    policy.require(identity, "register_occupancy", occupancy.unit.dossier)
    if end < occupancy.start_date:
        raise ValidationError("The end date is before the start date.")
    with unit_of_work() as uow:
        occupancy.end_date = end
        unit_id = occupancy.unit_id
        uow.after_commit(lambda: schedule_unit_index(unit_id))
        audit.record("occupancy.end", actor=identity, obj=occupancy.unit.dossier, customer=occupancy.customer.name,
                     end=end.isoformat())
    return occupancy


def list_dossiers(identity, *, project_id: int | None = None, q: str = "", page: int = 1,
                  per_page: int | None = None):
    """Unit dossiers (residential first, then shops and parking, as the rules list them), then litigation files."""
    policy.require(identity, "browse_dossiers")
    kind_order = sa.case({UnitKind.RESIDENTIAL.value: 0, UnitKind.SHOP.value: 1, UnitKind.PARKING.value: 2},
                         value=Unit.kind, else_=3)
    stmt = (
        sa.select(Dossier)
        .outerjoin(Unit, Dossier.unit_id == Unit.id)
        .outerjoin(Building, Unit.building_id == Building.id)
        .options(selectinload(Dossier.unit).selectinload(Unit.occupancies))
        .where(policy.where(identity, "read", Dossier))
        .order_by(Dossier.project_id, kind_order, Building.code, Unit.code, Dossier.archive_number)
    )
    if project_id:
        stmt = stmt.where(Dossier.project_id == project_id)
    if q.strip():
        term = q.strip()
        holders = sa.select(Occupancy.unit_id).join(Customer).where(Customer.name.contains(term, autoescape=True))
        stmt = stmt.where(sa.or_(
            Dossier.archive_number.contains(term, autoescape=True),
            Dossier.title.contains(term, autoescape=True),
            (Building.name + Unit.name).contains(term, autoescape=True),
            Dossier.unit_id.in_(holders),
        ))
    per_page = per_page or current_app.config["PAGE_SIZE"]
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=200)


def get_dossier(identity, dossier_id: int, *, audited: bool = True) -> Dossier:
    dossier = policy.fetch(identity, "read", Dossier, dossier_id)
    if audited:
        with unit_of_work():
            audit.record("dossier.view", actor=identity, obj=dossier, archive_number=dossier.archive_number)
    return dossier


def dossier_links(dossier: Dossier) -> list[tuple[DossierLink, Dossier]]:
    """Cross-references seen from this dossier, in both directions, oldest first."""
    links = db.session.scalars(
        sa.select(DossierLink)
        .where(sa.or_(DossierLink.from_dossier_id == dossier.id, DossierLink.to_dossier_id == dossier.id))
        .options(joinedload(DossierLink.from_dossier), joinedload(DossierLink.to_dossier))
        .order_by(DossierLink.id))
    return [(link, link.to_dossier if link.from_dossier_id == dossier.id else link.from_dossier) for link in links]


# Composed operations behind the project and dossier pages.


def ensure_may_create_project(identity) -> None:
    """Refuse the new-project form itself, not only its submission, to those who may not create projects."""
    policy.require(identity, "create_project")


@dataclass(frozen=True)
class BuildingSummary:
    building: Building
    units_by_kind: dict[UnitKind, int]

    @property
    def unit_count(self) -> int:
        return sum(self.units_by_kind.values())


@dataclass(frozen=True)
class ProjectOverview:
    project: Project
    buildings: list[BuildingSummary]


def project_overview(identity, project_id: int) -> ProjectOverview:
    """A project with its buildings and how many units of each kind they hold (one counting query)."""
    project = get_project(identity, project_id)
    counts: dict[int, dict[UnitKind, int]] = {}
    rows = db.session.execute(
        sa.select(Unit.building_id, Unit.kind, sa.func.count())
        .join(Building, Unit.building_id == Building.id)
        .where(Building.project_id == project.id)
        .group_by(Unit.building_id, Unit.kind))
    for building_id, kind, number in rows:
        counts.setdefault(building_id, {})[kind] = number
    return ProjectOverview(project, [BuildingSummary(b, counts.get(b.id, {})) for b in project.buildings])


@dataclass(frozen=True)
class NewHolder:
    occupancy: Occupancy
    customer: Customer
    already_registered: bool


def register_holder(identity, dossier_id: int, *, name: str, kind: CustomerKind, id_number: str, phone: str,
                    role: OccupancyRole, start: date) -> NewHolder:
    """Record an owner or tenant of a unit, registering the customer unless their ID number is already known."""
    dossier = get_dossier(identity, dossier_id, audited=False)
    policy.require(identity, "register_occupancy", dossier)
    if dossier.unit_id is None:
        raise ValidationError("Owners and tenants are recorded on the dossier of a unit.")
    customer = find_customer_by_id_number(identity, id_number) if normalise_id_number(id_number) else None
    already_registered = customer is not None
    if customer is not None and db.session.scalar(sa.select(Occupancy.id).where(
            Occupancy.unit_id == dossier.unit_id, Occupancy.customer_id == customer.id, Occupancy.end_date.is_(None))):
        raise Conflict("%(name)s is already a current holder of this unit.", name=customer.name)
    if customer is None:
        customer = register_customer(identity, name, kind, id_number, phone)
    occupancy = add_occupancy(identity, dossier.id, customer.id, role, start)
    return NewHolder(occupancy, customer, already_registered)


def link_dossier_by_number(identity, from_id: int, archive_number: str, reason: LinkReason,
                           note: str = "") -> DossierLink:
    """Cross-reference a dossier to another one named by its archive number, as archivists know them."""
    policy.require(identity, "link", get_dossier(identity, from_id, audited=False))
    number = archive_number.strip()
    target_id = db.session.scalar(sa.select(Dossier.id).where(Dossier.archive_number == number))
    if target_id is None:
        raise ValidationError("No dossier has the archive number %(number)s.", number=number)
    return link_dossiers(identity, from_id, target_id, reason, note)


@dataclass(frozen=True)
class DossierPage:
    dossier: Dossier
    documents: Pagination  # only the documents the identity may read
    links: list[tuple[DossierLink, Dossier]]
    occupancies: list[Occupancy]


def dossier_page(identity, dossier_id: int, page: int = 1) -> DossierPage:
    """Everything the dossier page shows; the view is audited, the documents filtered by the policy."""
    dossier = get_dossier(identity, dossier_id)
    _, documents = document_services.dossier_documents(identity, dossier.id, page)
    occupancies = list(dossier.unit.occupancies) if dossier.unit is not None else []
    return DossierPage(dossier, documents, dossier_links(dossier), occupancies)

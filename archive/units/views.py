"""Pages of projects, buildings, units and dossiers (一户一档)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import groupby
from typing import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from ..core.enums import UnitKind
from ..core.errors import ArchiveError
from ..core.web import error_text
from . import services
from .forms import (
    BuildingForm, CaseClosedForm, DossierFilterForm, EndOccupancyForm, HolderForm, LinkForm, LitigationForm, MoveInForm,
    ProjectForm, UnitsForm,
)

bp = Blueprint("units", __name__)

PageResponse = tuple[str, int]


def _flash_failure(exc: ArchiveError) -> int:
    flash(error_text(exc), "error")
    return exc.status_code


def _flash_form_errors(form: FlaskForm) -> int:
    for field in form:
        for error in field.errors:
            flash(_("%(field)s: %(error)s", field=field.label.text, error=error), "error")
    return 400


def _submit(form: FlaskForm, perform: Callable[[], tuple[str, str]],
            page_again: Callable[[int], PageResponse]) -> Response | PageResponse:
    """Run a page's form. `perform` does the work and returns (message, where to go next). On failure
    the page is shown again with the reason flashed and everything the user typed still in the form."""
    if form.validate_on_submit():
        try:
            message, next_url = perform()
        except ArchiveError as exc:
            status = _flash_failure(exc)
        else:
            flash(message, "success")
            return redirect(next_url)
    else:
        status = _flash_form_errors(form)
    return page_again(status)


# Projects, buildings and units


@bp.get("/projects")
@login_required
def projects():
    return render_template("units/projects.html", projects=services.list_projects(current_user))


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new_project():
    services.ensure_may_create_project(current_user)
    form = ProjectForm()
    if not form.is_submitted():
        return render_template("units/new_project.html", form=form)

    def create() -> tuple[str, str]:
        project = services.create_project(current_user, form.code.data, form.name.data, form.address.data or "")
        return (_("Project %(name)s is created. Add its buildings and units now.", name=project.name),
                url_for("units.project", project_id=project.id))

    return _submit(form, create, lambda status: (render_template("units/new_project.html", form=form), status))


@dataclass(frozen=True)
class ProjectForms:
    building: BuildingForm
    units: UnitsForm
    move_in: MoveInForm

    @classmethod
    def blank(cls) -> "ProjectForms":
        return cls(BuildingForm(formdata=None, prefix="building"), UnitsForm(formdata=None, prefix="units"),
                   MoveInForm(formdata=None, prefix="move_in"))


def _project_page(overview: services.ProjectOverview, forms: ProjectForms, status: int = 200) -> PageResponse:
    forms.units.building.choices = _building_choices(overview)
    if not forms.move_in.is_submitted():
        forms.move_in.move_in_date.data = overview.project.move_in_date
    return render_template("units/project.html", overview=overview, project=overview.project, forms=forms,
                           unit_kinds=list(UnitKind)), status


def _building_choices(overview: services.ProjectOverview) -> list[SelectChoice]:
    return [SelectChoice(str(s.building.id), f"{s.building.code} {s.building.name}") for s in overview.buildings]


@bp.get("/projects/<int:project_id>")
@login_required
def project(project_id: int):
    return _project_page(services.project_overview(current_user, project_id), ProjectForms.blank())


@bp.post("/projects/<int:project_id>/buildings")
@login_required
def add_building(project_id: int):
    form = BuildingForm(prefix="building")

    def add() -> tuple[str, str]:
        building = services.add_building(current_user, project_id, form.code.data, form.name.data)
        return _("Building %(name)s is added.", name=building.name), url_for("units.project", project_id=project_id)

    return _submit(
        form, add,
        lambda status: _project_page(services.project_overview(current_user, project_id),
                                     replace(ProjectForms.blank(), building=form), status),
    )


@bp.post("/projects/<int:project_id>/units")
@login_required
def add_units(project_id: int):
    overview = services.project_overview(current_user, project_id)
    form = UnitsForm(prefix="units")
    form.building.choices = _building_choices(overview)

    def add() -> tuple[str, str]:
        units = services.add_units(current_user, form.building.data, form.unit_specs)
        return (ngettext("%(num)d unit is added with its dossier and archive number.",
                         "%(num)d units are added, each with its dossier and archive number.", len(units)),
                url_for("units.project", project_id=project_id))

    return _submit(
        form, add,
        lambda status: _project_page(overview, replace(ProjectForms.blank(), units=form), status),
    )


@bp.post("/projects/<int:project_id>/move-in")
@login_required
def set_move_in(project_id: int):
    form = MoveInForm(prefix="move_in")

    def record() -> tuple[str, str]:
        project = services.set_move_in_date(current_user, project_id, form.move_in_date.data)
        message = (_("Collective move-in is recorded as %(date)s.", date=project.move_in_date.isoformat())
                   if project.move_in_date else _("The collective move-in date is cleared."))
        return message, url_for("units.project", project_id=project_id)

    return _submit(
        form, record,
        lambda status: _project_page(services.project_overview(current_user, project_id),
                                     replace(ProjectForms.blank(), move_in=form), status),
    )


# Dossiers


@bp.get("/dossiers")
@login_required
def dossiers():
    form = DossierFilterForm(request.args)
    form.project.choices = [SelectChoice("0", _("All projects"))] + [
        SelectChoice(str(p.id), f"{p.code} {p.name}") for p in services.list_projects(current_user)
    ]
    q, project_id = (form.q.data or "").strip(), form.project.data or 0
    pagination = services.list_dossiers(current_user, project_id=project_id or None, q=q,
                                        page=request.args.get("page", 1, type=int))
    filters = {k: v for k, v in (("q", q), ("project", project_id)) if v}
    return render_template("units/dossiers.html", form=form, pagination=pagination, filters=filters)


@dataclass(frozen=True)
class DossierForms:
    holder: HolderForm
    link: LinkForm
    litigation: LitigationForm
    end: EndOccupancyForm
    closed: CaseClosedForm
    end_for_occupancy: int | None = None  # the occupancy whose end form was sent and is shown again

    @classmethod
    def blank(cls) -> "DossierForms":
        return cls(
            HolderForm(formdata=None, prefix="holder"),
            LinkForm(formdata=None, prefix="link"),
            LitigationForm(formdata=None, prefix="litigation"),
            EndOccupancyForm(formdata=None, prefix="end"),
            CaseClosedForm(formdata=None, prefix="closed"),
        )


def _dossier_page(dossier_id: int, forms: DossierForms, status: int = 200) -> PageResponse:
    page = services.dossier_page(current_user, dossier_id, request.args.get("page", 1, type=int))
    by_category = [(category, list(docs)) for category, docs in groupby(page.documents.items, lambda d: d.category)]
    return render_template(
        "units/dossier.html", page=page, dossier=page.dossier, by_category=by_category, forms=forms,
        blank_end_form=EndOccupancyForm(formdata=None, prefix="end"),
    ), status


def _back_to(dossier_id: int) -> str:
    return url_for("units.dossier", dossier_id=dossier_id)


@bp.get("/dossiers/<int:dossier_id>")
@login_required
def dossier(dossier_id: int):
    return _dossier_page(dossier_id, DossierForms.blank())


@bp.post("/dossiers/<int:dossier_id>/holders")
@login_required
def add_holder(dossier_id: int):
    form = HolderForm(prefix="holder")

    def add() -> tuple[str, str]:
        added = services.register_holder(
            current_user, dossier_id, name=form.name.data, kind=form.kind.data, id_number=form.id_number.data or "",
            phone=form.phone.data or "", role=form.role.data, start=form.start.data,
        )
        if added.already_registered:
            message = _("The ID number belongs to the registered customer %(name)s, who is now recorded as %(role)s.",
                        name=added.customer.name, role=added.occupancy.role.label)
        else:
            message = _("%(name)s is registered and recorded as %(role)s.", name=added.customer.name,
                        role=added.occupancy.role.label)
        return message, _back_to(dossier_id)

    return _submit(form, add,
                   lambda status: _dossier_page(dossier_id, replace(DossierForms.blank(), holder=form), status))


@bp.post("/dossiers/<int:dossier_id>/occupancies/<int:occupancy_id>/end")
@login_required
def end_occupancy(dossier_id: int, occupancy_id: int):
    form = EndOccupancyForm(prefix="end")

    def end() -> tuple[str, str]:
        occupancy = services.end_occupancy(current_user, occupancy_id, form.end.data)
        return (_("%(name)s is recorded as %(role)s until %(date)s.", name=occupancy.customer.name,
                  role=occupancy.role.label, date=occupancy.end_date.isoformat()),
                _back_to(occupancy.unit.dossier.id))

    return _submit(
        form, end,
        lambda status: _dossier_page(
            dossier_id, replace(DossierForms.blank(), end=form, end_for_occupancy=occupancy_id), status),
    )


@bp.post("/dossiers/<int:dossier_id>/closed")
@login_required
def case_closed(dossier_id: int):
    form = CaseClosedForm(prefix="closed")

    def record() -> tuple[str, str]:
        dossier = services.record_case_closed(current_user, dossier_id, form.closed_on.data)
        return _("The case is recorded as closed on %(date)s.", date=dossier.closed_on.isoformat()), \
            _back_to(dossier_id)

    return _submit(form, record,
                   lambda status: _dossier_page(dossier_id, replace(DossierForms.blank(), closed=form), status))


@bp.post("/dossiers/<int:dossier_id>/links")
@login_required
def link(dossier_id: int):
    form = LinkForm(prefix="link")

    def link_to() -> tuple[str, str]:
        services.link_dossier_by_number(current_user, dossier_id, form.archive_number.data, form.reason.data,
                                        form.note.data or "")
        return _("The dossiers now refer to each other."), _back_to(dossier_id)

    return _submit(form, link_to,
                   lambda status: _dossier_page(dossier_id, replace(DossierForms.blank(), link=form), status))


@bp.post("/dossiers/<int:dossier_id>/litigation")
@login_required
def new_litigation(dossier_id: int):
    form = LitigationForm(prefix="litigation")

    def create() -> tuple[str, str]:
        litigation = services.create_litigation_file(current_user, dossier_id, form.title.data)
        return (_("Litigation file %(number)s is created and cross-referenced with this dossier.",
                  number=litigation.archive_number), _back_to(dossier_id))

    return _submit(form, create,
                   lambda status: _dossier_page(dossier_id, replace(DossierForms.blank(), litigation=form), status))

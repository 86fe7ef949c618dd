"""The search page (one box, and an advanced form with the metadata criteria) and its autocomplete."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..core.enums import Category, Level
from ..core.errors import ValidationError
from ..core.web import error_text
from . import index_cli, services

# cli_group=None: the commands are `archive reindex` and `archive search`, not `archive search-bp …`.
bp = Blueprint("search", __name__, cli_group=None)
bp.cli.add_command(index_cli.reindex)
bp.cli.add_command(index_cli.search)


class FullTextForm(FlaskForm):
    """Read from the query string: a search is a link that can be bookmarked and paged."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=services.MAX_QUERY_LENGTH)],
                    render_kw={"placeholder": _l("Words, names, contract or unit numbers, e.g. 押金 3栋2单元1502"),
                               "autocomplete": "off"})
    archive_number = StringField(_l("Archive number"), validators=[Optional(), Length(max=100)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    customer = StringField(_l("Customer name"), validators=[Optional(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=100)],
                       render_kw={"placeholder": _l("e.g. 3栋2单元1502")})
    category = SelectField(_l("Category"), validators=[Optional()])
    level = SelectField(_l("Level"), validators=[Optional()])
    project = SelectField(_l("Project"), validators=[Optional()])
    building = SelectField(_l("Building"), validators=[Optional()])
    department = SelectField(_l("Department"), validators=[Optional()])
    date_from = DateField(_l("Date from"), validators=[Optional()])
    date_to = DateField(_l("Date to"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), validators=[Optional()],
                       choices=[SelectChoice("relevance", _l("Relevance")), SelectChoice("date", _l("Date, newest first"))])

    def __init__(self, choices: services.FilterChoices, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = SelectChoice("", _l("All"))
        self.category.choices = [every] + [SelectChoice(c.value, c.label) for c in Category]
        self.level.choices = [every] + [SelectChoice(lvl.value, lvl.label) for lvl in choices.levels]
        self.project.choices = [every] + [SelectChoice(str(i), name) for i, name in choices.projects]
        self.building.choices = [every] + [SelectChoice(str(i), name) for i, name in choices.buildings]
        self.department.choices = [every] + [SelectChoice(str(i), name) for i, name in choices.departments]

    def query(self) -> services.SearchQuery:
        def number(value: str | None) -> int | None:
            return int(value) if value else None

        return services.SearchQuery(
            text=self.q.data or "",
            archive_number=self.archive_number.data or "", title=self.title.data or "",
            customer=self.customer.data or "", unit=self.unit.data or "",
            category=Category(self.category.data) if self.category.data else None,
            level=Level(self.level.data) if self.level.data else None,
            project_id=number(self.project.data), building_id=number(self.building.data),
            department_id=number(self.department.data),
            date_from=self.date_from.data, date_to=self.date_to.data,
            sort=self.sort.data or "relevance",
        )


@bp.get("/find")
@login_required
def find():
    form = FullTextForm(services.filter_choices(current_user), formdata=request.args)
    results, error = None, None
    if request.args and form.validate():
        try:
            results = services.search(current_user, form.query(), page=request.args.get("page", 1, type=int))
        except ValidationError as exc:
            error = error_text(exc)
    arguments = {name: request.args[name] for name in form.data if request.args.get(name)}
    advanced = any(request.args.get(name) for name in form.data if name not in ("q", "sort"))
    return render_template("search/find.html", form=form, results=results, arguments=arguments,
                           advanced=advanced, error=error), 400 if error else 200


@bp.get("/find/suggest")
@login_required
def suggest():
    suggestions = services.autocomplete(current_user, request.args.get("q", ""))
    return jsonify([
        {"text": s.text, "kind": s.kind,
         "url": url_for("documents.document", document_id=s.document_id) if s.document_id else None}
        for s in suggestions
    ])

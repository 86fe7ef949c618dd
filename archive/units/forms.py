"""Forms of the project and dossier pages."""
from __future__ import annotations

import re

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..core.enums import CustomerKind, LinkReason, OccupancyRole, UnitKind
from .services import CODE_PATTERN, UnitSpec

# The words a unit line may use for its kind: the stored values and the terms on Chinese papers.
UNIT_KIND_WORDS = {
    "residential": UnitKind.RESIDENTIAL, "住宅": UnitKind.RESIDENTIAL,
    "shop": UnitKind.SHOP, "商铺": UnitKind.SHOP,
    "parking": UnitKind.PARKING, "车位": UnitKind.PARKING,
}
UNIT_LINE_SEPARATOR = re.compile(r"\s*[,，]\s*")
MAX_CODE_LENGTH, MAX_UNIT_NAME_LENGTH = 20, 100


def parse_unit_lines(text: str) -> list[UnitSpec]:
    """One unit per line, `code, name, kind, floor`; kind and floor may be left out. Errors name the line."""
    specs: list[UnitSpec] = []
    first_line_of: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = UNIT_LINE_SEPARATOR.split(line)
        if len(parts) > 4:
            raise ValidationError(_("Line %(line)s (%(text)s): give at most four values: code, name, kind, floor.",
                                    line=number, text=line))
        code, name, kind_word, floor_text = (parts + ["", "", "", ""])[:4]
        code = code.upper()
        if not CODE_PATTERN.fullmatch(code) or len(code) > MAX_CODE_LENGTH:
            raise ValidationError(_("Line %(line)s (%(text)s): the unit code must be letters and digits joined by "
                                    "'-', at most %(max)s characters.", line=number, text=line, max=MAX_CODE_LENGTH))
        if code in first_line_of:
            raise ValidationError(_("Line %(line)s (%(text)s): unit %(code)s is already on line %(first)s.",
                                    line=number, text=line, code=code, first=first_line_of[code]))
        if len(name) > MAX_UNIT_NAME_LENGTH:
            raise ValidationError(_("Line %(line)s (%(text)s): the name is longer than %(max)s characters.",
                                    line=number, text=line, max=MAX_UNIT_NAME_LENGTH))
        kind = UNIT_KIND_WORDS.get(kind_word.lower() or "residential")
        if kind is None:
            raise ValidationError(_("Line %(line)s (%(text)s): the kind must be residential, shop or parking.",
                                    line=number, text=line))
        try:
            floor = int(floor_text) if floor_text else None
        except ValueError:
            raise ValidationError(_("Line %(line)s (%(text)s): the floor must be a whole number.",
                                    line=number, text=line)) from None
        first_line_of[code] = number
        specs.append(UnitSpec(code=code, name=name or code, kind=kind, floor=floor))
    if not specs:
        raise ValidationError(_("Give at least one unit."))
    return specs


class ProjectForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=MAX_CODE_LENGTH)],
                       description=_l("Letters and digits; it becomes part of every archive number, e.g. LJY."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])


class BuildingForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=MAX_CODE_LENGTH)],
                       description=_l("It becomes part of the archive numbers, e.g. 03."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("As people say it, e.g. 3栋."))


class UnitsForm(FlaskForm):
    """Many units of one building at once; the view fills in the building choices."""

    unit_specs: list[UnitSpec]  # the parsed lines, once validated
    building = SelectField(_l("Building"), coerce=int, validators=[DataRequired()])
    lines = TextAreaField(
        _l("Units"), validators=[DataRequired()],
        description=_l("One unit per line: code, name, kind, floor — e.g. 2-1502, 2单元1502, residential, 15. "
                       "Kinds: residential, shop, parking."),
    )

    def validate_lines(self, field: TextAreaField) -> None:
        self.unit_specs = parse_unit_lines(field.data)


class DossierFilterForm(FlaskForm):
    """The search box above the dossier list (a GET form: nothing changes, so no CSRF token in the URL)."""

    class Meta:
        csrf = False

    q = StringField(_l("Archive number, unit or customer"), validators=[Optional(), Length(max=100)])
    project = SelectField(_l("Project"), coerce=int, validate_choice=False)


class HolderForm(FlaskForm):
    """Register a customer and record them as owner or tenant of the unit from a date."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Person or company"), coerce=CustomerKind)
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=40)],
                            description=_l("Stored encrypted and shown masked. A number already registered "
                                           "adds that customer."))
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    role = SelectField(_l("Role"), coerce=OccupancyRole)
    start = DateField(_l("From"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(k.value, k.label) for k in CustomerKind]
        self.role.choices = [SelectChoice(r.value, r.label) for r in OccupancyRole]


class MoveInForm(FlaskForm):
    move_in_date = DateField(_l("Collective move-in date"), validators=[Optional()],
                             description=_l("Contract, certificate and move-in papers are due one month after it."))


class CaseClosedForm(FlaskForm):
    closed_on = DateField(_l("Case closed on"), validators=[DataRequired()])


class EndOccupancyForm(FlaskForm):
    end = DateField(_l("Until"), validators=[DataRequired()])


class LinkForm(FlaskForm):
    archive_number = StringField(_l("Archive number of the other dossier"),
                                 validators=[DataRequired(), Length(max=80)])
    reason = SelectField(_l("Reason"), coerce=LinkReason)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = [
            SelectChoice(r.value, r.label) for r in (LinkReason.SAME_CUSTOMER, LinkReason.OTHER)
        ]


class LitigationForm(FlaskForm):
    title = StringField(_l("Title of the litigation file"), validators=[DataRequired(), Length(max=300)])

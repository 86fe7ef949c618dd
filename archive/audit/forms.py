"""The audit viewer's filters (a GET form: nothing changes, so no CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .services import DENIED, FAILURE, SUCCESS, EventFilter

OUTCOME_LABELS = {SUCCESS: _l("Success"), DENIED: _l("Denied"), FAILURE: _l("Failure")}


class EventFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(
        _l("Action"), validators=[Optional(), Length(max=60)], description=_l("Beginning of the action, e.g. document.")
    )
    actor = StringField(_l("Login of the actor"), validators=[Optional(), Length(max=64)])
    department = SelectField(
        _l("Department"), validators=[Optional()], default="",
        description=_l("Recorded with each event; for older events, the person's current department."),
    )
    document = StringField(
        _l("Document (archive number)"), validators=[Optional(), Length(max=100)],
        description=_l("Its own events and every loan, handover or print naming it."),
    )
    dossier = StringField(
        _l("Dossier (archive number)"), validators=[Optional(), Length(max=80)],
        description=_l("The dossier's events and those of its documents."),
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=[SelectChoice("", _l("Any")), *(SelectChoice(value, label) for value, label in OUTCOME_LABELS.items())],
        validators=[Optional()],
        default="",
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def __init__(self, *args, departments: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.department.choices = [SelectChoice("", _l("Any")), *(SelectChoice(code, label) for code, label in departments)]

    def to_filter(self) -> EventFilter:
        return EventFilter(
            action=(self.action.data or "").strip(),
            actor=(self.actor.data or "").strip(),
            department=self.department.data or "",
            document=(self.document.data or "").strip(),
            dossier=(self.dossier.data or "").strip(),
            outcome=self.outcome.data or "",
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )

"""Forms of the classification pages: the change request and a decision on one step."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..auth.forms import MultiCheckboxField
from ..core.enums import LevelPeriod
from .models import ApprovalStep
from .services import RequestChoices

APPROVE, REJECT = "approve", "reject"


class RequestForm(FlaskForm):
    new_level = SelectField(_l("New level"), validators=[InputRequired()])
    period = SelectField(_l("Period of the level"), description=_l("Not needed when the level becomes C 内部."))
    until = DateField(_l("Last day of the period"), validators=[Optional()],
                      description=_l("For a dated period: the level is lowered to C 内部 after this day."))
    scope_department_ids = MultiCheckboxField(
        _l("Departments that may know"), coerce=int,
        description=_l("The document's own department always knows."))
    scope_user_ids = MultiCheckboxField(_l("People who may know"), coerce=int)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def __init__(self, choices: RequestChoices, **kwargs) -> None:
        super().__init__(**kwargs)
        self.new_level.choices = [SelectChoice(lvl.value, lvl.label) for lvl in choices.levels]
        self.period.choices = [SelectChoice("", "—")] + [SelectChoice(p.value, p.label) for p in LevelPeriod]
        self.scope_department_ids.choices = [(d.id, d.name) for d in choices.departments]
        self.scope_user_ids.choices = [(u.id, f"{u.display_name} ({u.department.name})") for u in choices.people]
        if not self.is_submitted():
            self.scope_department_ids.data = choices.scope_department_ids
            self.scope_user_ids.data = choices.scope_user_ids


class DecideForm(FlaskForm):
    step = HiddenField(validators=[InputRequired()])
    decision = SelectField(_l("Decision"), choices=[SelectChoice(APPROVE, _l("Approve")),
                                                    SelectChoice(REJECT, _l("Reject"))])
    comment = TextAreaField(_l("Comment (required for a rejection)"), validators=[Optional(), Length(max=1000)])

    def chosen_step(self) -> ApprovalStep | None:
        return ApprovalStep(self.step.data) if self.step.data in {s.value for s in ApprovalStep} else None

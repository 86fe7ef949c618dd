"""Forms of the retention pages: a schedule change, a keep decision, a proposal, holds, a cancellation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..core.enums import Category, Retention

PERMANENT = "permanent"


class ScheduleForm(FlaskForm):
    category = SelectField(_l("Category"), validators=[DataRequired()])
    retention = SelectField(_l("Retention period"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice(c.value, c.label) for c in Category]
        self.retention.choices = [SelectChoice(r.value, r.label) for r in Retention]


class KeepForm(FlaskForm):
    period = SelectField(_l("Keep"), validators=[DataRequired()])
    reason = StringField(_l("Reason of the appraisal"), validators=[DataRequired(), Length(max=500)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.period.choices = [SelectChoice("10", _l("10 more years")), SelectChoice("30", _l("30 more years")),
                               SelectChoice(PERMANENT, _l("Permanently"))]

    @property
    def years(self) -> int | None:
        return None if self.period.data == PERMANENT else int(self.period.data)


class ProposeForm(FlaskForm):
    reason = StringField(_l("Reason for the disposal (销毁原因)"), validators=[DataRequired(), Length(max=500)])


class HoldForm(FlaskForm):
    archive_number = StringField(_l("Archive number"), validators=[DataRequired(), Length(max=100)])
    reason = StringField(_l("Reason of the hold"), validators=[DataRequired(), Length(max=500)])


class ReasonForm(FlaskForm):
    """Lifting a hold or cancelling a disposal: the reason is required."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])

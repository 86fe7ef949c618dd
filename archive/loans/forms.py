"""Forms of the loan pages. Per-item checks (pages issued, return state) are read by `item_values`."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l, to_user_timezone
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..core.types import utcnow
from .models import AgencyKind, Decision, LoanUse


class SubmitForm(FlaskForm):
    purpose = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=2000)])
    use = SelectField(_l("Type of use"), default=LoanUse.VIEW.value)
    start_date = DateField(_l("From"), validators=[InputRequired()])
    due_date = DateField(_l("Until (inclusive)"), validators=[InputRequired()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.use.choices = [SelectChoice(u.value, u.label) for u in LoanUse]
        if not self.is_submitted():
            today = to_user_timezone(utcnow()).date()
            self.start_date.data = self.start_date.data or today
            self.due_date.data = self.due_date.data or today + timedelta(days=6)


class DecideForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=[SelectChoice(Decision.APPROVED.value, _l("Approve")), SelectChoice(Decision.REJECTED.value, _l("Reject"))],
    )
    comment = TextAreaField(_l("Comment (required for a rejection)"), validators=[Optional(), Length(max=1000)])


class RenewForm(FlaskForm):
    due_date = DateField(_l("New due date"), validators=[InputRequired()])
    purpose = TextAreaField(_l("Why the loan must run longer"), validators=[DataRequired(), Length(max=2000)])


class ConsultationForm(FlaskForm):
    agency_kind = SelectField(_l("Authority"))
    agency_name = StringField(_l("Name of the authority"), validators=[DataRequired(), Length(max=200)])
    letter_reference = StringField(_l("Letter reference (公函编号)"), validators=[DataRequired(), Length(max=200)])
    officer_names = StringField(_l("Officers' names"), validators=[DataRequired(), Length(max=300)])
    officer_ids = StringField(
        _l("Officers' ID numbers"), validators=[DataRequired(), Length(max=300)],
        description=_l("Separate several with commas. Stored encrypted, shown masked."),
    )
    purpose = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=2000)])
    consulted_on = DateField(_l("Date"), validators=[InputRequired()])
    archive_numbers = TextAreaField(
        _l("Archive numbers consulted"), validators=[DataRequired(), Length(max=5000)],
        description=_l("One per line."),
    )
    letter = FileField(_l("Scan of the letter (PDF or image)"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.agency_kind.choices = [SelectChoice(k.value, k.label) for k in AgencyKind]


def item_values(form_data, prefix: str, item_ids: list[int]) -> dict[int, str]:
    """The value of `<prefix>-<item id>` for each item that has one."""
    values = {}
    for item_id in item_ids:
        value = form_data.get(f"{prefix}-{item_id}", "").strip()
        if value:
            values[item_id] = value
    return values

"""Forms of the handover pages: a new batch, a line as listed, a line as counted, a receipt's code."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.enums import Carrier


class _FirstError:
    def first_error(self) -> str:
        for field in self:
            if field.errors:
                return f"{field.label.text}: {field.errors[0]}"
        return ""


class NewBatchForm(FlaskForm):
    rule = SelectField(_l("Rule the batch fulfils"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, rules=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rule.choices = [
            SelectChoice(str(r.id), f"{r.category.label}: {r.from_department.name} → {r.to_department.name}")
            for r in rules
        ]


class LineForm(_FirstError, FlaskForm):
    carrier = SelectField(_l("Carrier"))
    item_count = IntegerField(_l("Items"), validators=[InputRequired(), NumberRange(min=1)])
    pages = IntegerField(_l("Pages"), validators=[InputRequired(), NumberRange(min=0)])
    is_original = BooleanField(_l("Original"))
    condition = StringField(_l("Condition"), validators=[Optional(), Length(max=200)])
    remarks = StringField(_l("Remarks"), validators=[Optional(), Length(max=500)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.carrier.choices = [SelectChoice(c.value, c.label) for c in Carrier]

    def changes(self) -> dict:
        return {
            "carrier": self.carrier.data, "item_count": self.item_count.data, "pages": self.pages.data,
            "is_original": self.is_original.data, "condition": self.condition.data or "",
            "remarks": self.remarks.data or "",
        }


class CheckForm(_FirstError, FlaskForm):
    counted_items = IntegerField(_l("Items counted"), validators=[InputRequired(), NumberRange(min=0)])
    counted_pages = IntegerField(_l("Pages counted"), validators=[InputRequired(), NumberRange(min=0)])
    reason = StringField(_l("Reason to return it (optional)"), validators=[Optional(), Length(max=500)])


class VerifyForm(FlaskForm):
    code = StringField(
        _l("Code of the receipt"), validators=[DataRequired(), Length(max=200)],
        description=_l("Scan the QR code on the printed receipt, or type the line under it: number|SHA-256."),
    )

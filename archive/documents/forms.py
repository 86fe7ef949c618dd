"""Forms of the document pages: filing, metadata edits and new versions."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.enums import Carrier, Category, Level, Retention
from .models import Document
from .services import EDITABLE_FIELDS, DocumentMetadata, FilingChoices

ORIGINAL, COPY = "original", "copy"


class _MetadataForm(FlaskForm):
    """The fields a filer describes and may later correct (services.EDITABLE_FIELDS)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    responsible_party = StringField(_l("Responsible party"), validators=[DataRequired(), Length(max=200)])
    doc_number = StringField(_l("Document number"), validators=[Optional(), Length(max=100)])
    doc_date = DateField(_l("Date"), validators=[InputRequired()])
    page_count = IntegerField(_l("Page count"), validators=[InputRequired(), NumberRange(min=0)])
    is_original = SelectField(
        _l("Original or copy"), default=ORIGINAL,
        choices=[SelectChoice(ORIGINAL, _l("Original")), SelectChoice(COPY, _l("Copy"))],
    )
    carrier = SelectField(_l("Carrier"), default=Carrier.ELECTRONIC.value)
    retention = SelectField(_l("Retention period"))
    location_room = StringField(_l("Room or cabinet"), validators=[Optional(), Length(max=50)])
    location_box = StringField(_l("Box"), validators=[Optional(), Length(max=50)])
    location_shelf = StringField(_l("Shelf"), validators=[Optional(), Length(max=50)])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.carrier.choices = [SelectChoice(c.value, c.label) for c in Carrier]
        self.retention.choices = [SelectChoice(r.value, r.label) for r in Retention]

    def _values(self) -> dict[str, Any]:
        return {
            "title": self.title.data,
            "responsible_party": self.responsible_party.data,
            "doc_number": self.doc_number.data or "",
            "doc_date": self.doc_date.data,
            "page_count": self.page_count.data,
            "is_original": self.is_original.data == ORIGINAL,
            "carrier": Carrier(self.carrier.data),
            "retention": Retention(self.retention.data) if self.retention.data else None,
            "location_room": self.location_room.data or "",
            "location_box": self.location_box.data or "",
            "location_shelf": self.location_shelf.data or "",
            "remarks": self.remarks.data or "",
        }


class UploadForm(_MetadataForm):
    files = MultipleFileField(_l("Files (PDF, JPEG, PNG or TIFF)"), render_kw={
        "accept": ".pdf,.jpg,.jpeg,.png,.tif,.tiff,application/pdf,image/jpeg,image/png,image/tiff"})
    category = SelectField(_l("Category"), validators=[InputRequired()])
    department_id = SelectField(_l("Responsible department"), coerce=int)
    level = SelectField(_l("Classification level"))
    page_count = IntegerField(
        _l("Page count"), validators=[Optional(), NumberRange(min=0)],
        description=_l("Leave empty to count the pages of each file."),
    )
    retention = SelectField(_l("Retention period"), description=_l("Never shorter than the category's schedule."))
    scope_department_ids = SelectMultipleField(
        _l("Knowledge scope"), coerce=int,
        description=_l("Other departments that may know this document."),
    )

    def __init__(self, choices: FilingChoices, default_department_id: int) -> None:
        super().__init__()
        self.category.choices = [SelectChoice(c.value, c.label) for c in Category]
        self.retention.choices = [SelectChoice("", _l("By the category's schedule"))] + self.retention.choices
        self.department_id.choices = [SelectChoice(d.id, d.name) for d in choices.departments]
        self.scope_department_ids.choices = [SelectChoice(d.id, d.name) for d in choices.scope_departments]
        self.level.choices = [SelectChoice(lvl.value, lvl.label) for lvl in choices.levels]
        if not self.is_submitted():
            self.level.data = Level.C.value  # the default for every customer document (5.1.5)
            offered = [d.id for d in choices.departments]
            self.department_id.data = default_department_id if default_department_id in offered else offered[0]

    def metadata(self) -> DocumentMetadata:
        return DocumentMetadata(
            category=Category(self.category.data),
            department_id=self.department_id.data,
            level=Level(self.level.data),
            scope_department_ids=list(self.scope_department_ids.data or []),
            **self._values(),
        )


class EditForm(_MetadataForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Prefixed: it shares the document page with the new-version form, and ids must stay unique.
        super().__init__(*args, prefix="edit", **kwargs)

    @classmethod
    def for_document(cls, doc: Document) -> "EditForm":
        data = {name: getattr(doc, name) for name in EDITABLE_FIELDS}
        data.update(
            is_original=ORIGINAL if doc.is_original else COPY,
            carrier=doc.carrier.value,
            retention=doc.retention.value,
        )
        return cls(formdata=None, data=data)

    def changes(self) -> dict[str, Any]:
        return {name: value for name, value in self._values().items() if name in EDITABLE_FIELDS}


class VersionForm(FlaskForm):
    file = FileField(_l("Corrected file"), validators=[FileRequired(_l("Choose the corrected file."))])
    note = StringField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=500)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="version", **kwargs)

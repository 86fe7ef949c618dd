"""Forms of the box pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .services import CODE_MAX, PLACE_MAX, TITLE_MAX, Place


class PlaceForm(FlaskForm):
    floor = IntegerField(_l("Floor"), validators=[Optional(), NumberRange(min=-10, max=200)])
    room = StringField(_l("Room or cabinet"), validators=[DataRequired(), Length(max=PLACE_MAX)])
    shelf = StringField(_l("Shelf"), validators=[DataRequired(), Length(max=PLACE_MAX)])

    def place(self) -> Place:
        return Place(self.floor.data, self.room.data or "", self.shelf.data or "")


class BoxForm(PlaceForm):
    code = StringField(_l("Box code"), validators=[DataRequired(), Length(max=CODE_MAX)],
                       description=_l("Letters and digits joined by '-', e.g. QZ01-H-0001."))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=TITLE_MAX)])


class PutForm(FlaskForm):
    archive_numbers = TextAreaField(_l("Archive numbers"), validators=[DataRequired(), Length(max=20000)],
                                    description=_l("One per line. Paper documents only."))


class YearForm(FlaskForm):
    class Meta:
        csrf = False  # a GET that changes nothing

    year = IntegerField(_l("Year the customers left"), validators=[InputRequired(), NumberRange(min=1900, max=9999)])

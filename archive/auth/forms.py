"""Forms of log-in, the user's own account, and user administration."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.enums import Level, Role


class LoginForm(FlaskForm):
    username = StringField(_l("Login"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=256)])
    confirm = PasswordField(
        _l("New password again"), validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))]
    )


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserFieldsForm(FlaskForm):
    """What an administrator sets on an account, when creating and when editing it."""

    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = StringField(
        _l("E-mail"), validators=[Optional(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
        description=_l("Notifications are also sent here when the archive has a mail server."),
    )
    # Choices are the departments of this archive; the view fills them in.
    department = SelectField(_l("Department"), validators=[DataRequired()], choices=[])
    roles = MultiCheckboxField(
        _l("Roles"), validators=[DataRequired(message=_l("Give the user at least one role."))]
    )
    clearance = RadioField(_l("Clearance"), validators=[DataRequired()], default=Level.C.value)

    def __init__(self, *args, departments=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.department.choices = [SelectChoice(d.code, f"{d.name} ({d.code})") for d in departments]
        self.roles.choices = [SelectChoice(role.value, role.label) for role in Role]
        self.clearance.choices = [SelectChoice(level.value, level.label) for level in Level]

    @property
    def selected_roles(self) -> set[Role]:
        return {Role(value) for value in self.roles.data or ()}

    @property
    def selected_clearance(self) -> Level:
        return Level(self.clearance.data)


class NewUserForm(UserFieldsForm):
    username = StringField(
        _l("Login"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("A login may contain letters, digits, '.', '-' and '_' only.")),
        ],
    )


class EditUserForm(UserFieldsForm):
    active = BooleanField(_l("Active (may log in)"))


class DepartmentForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9_-]+$", message=_l("A code may contain letters, digits, '-' and '_' only.")),
        ],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    is_archive = BooleanField(_l("This department is the central archive"))

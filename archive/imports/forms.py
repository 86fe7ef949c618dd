"""Forms of the import page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField


class ImportForm(FlaskForm):
    manifest = FileField(_l("Manifest (CSV or XLSX)"), validators=[FileRequired()],
                         description=_l("One row per file: 文件路径, 项目, 栋, 房号, 资料类别, 题名, 日期, 责任部门, "
                                        "and optionally 密级, 页数, 原件/复印件, 盒, 架, 责任者, 文号, 备注."))
    folder = SelectField(_l("Folder of scans on the server"),
                         description=_l("The manifest's paths are relative to this folder."))


class StartForm(FlaskForm):
    """Only the CSRF token: starting an import changes the archive."""

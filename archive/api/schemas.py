"""Marshmallow schemas: what the API accepts and answers, and so what the OpenAPI document says."""
from __future__ import annotations

from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from ..core.enums import Carrier, Category, DossierKind, Level, Retention, UnitKind
from ..core.types import MAX_ID
from ..handovers.models import HandoverStatus, ItemCheck
from ..handovers.services import actions as handover_actions
from ..loans.models import Decision, ItemState, LoanStatus, LoanUse, StepKind

MAX_LIMIT = 100


class ProblemSchema(Schema):
    type = fields.Str(required=True, metadata={"description": "a stable URI naming the kind of problem"})
    title = fields.Str(required=True)
    status = fields.Int(required=True)
    detail = fields.Str(required=True, metadata={"description": "what went wrong, in the user's language"})
    errors = fields.Dict(metadata={"description": "for invalid-parameters: the message of each parameter"})


class CursorArgs(Schema):
    cursor = fields.Str(load_default=None, validate=validate.Length(max=200),
                        metadata={"description": "the next_cursor of the previous page"})
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))


class PageSchema(Schema):
    next_cursor = fields.Str(allow_none=True, required=True)
    next = fields.Str(allow_none=True, required=True, metadata={"description": "the address of the next page"})


class ProjectSchema(Schema):
    id = fields.Int(required=True)
    code = fields.Str(required=True)
    name = fields.Str(required=True)
    address = fields.Str(required=True)
    move_in_date = fields.Date(allow_none=True, required=True)


class ProjectListSchema(Schema):
    items = fields.List(fields.Nested(ProjectSchema), required=True)


class UnitSchema(Schema):
    id = fields.Int(required=True)
    code = fields.Str(required=True)
    name = fields.Str(required=True)
    kind = fields.Enum(UnitKind, by_value=True, required=True)
    building = fields.Function(lambda unit: unit.building.name, required=True)


class ProjectUnitSchema(UnitSchema):
    dossier_id = fields.Function(lambda unit: unit.dossier.id if unit.dossier else None, allow_none=True,
                                 required=True)


class ProjectUnitListSchema(Schema):
    items = fields.List(fields.Nested(ProjectUnitSchema), required=True)


class DossierSchema(Schema):
    id = fields.Int(required=True)
    archive_number = fields.Str(required=True)
    title = fields.Str(required=True)
    kind = fields.Enum(DossierKind, by_value=True, required=True)
    project_id = fields.Int(required=True)
    unit = fields.Nested(UnitSchema, allow_none=True, required=True)
    closed_on = fields.Date(allow_none=True, required=True)


class DossierPageSchema(PageSchema):
    items = fields.List(fields.Nested(DossierSchema), required=True)


class DossierListArgs(CursorArgs):
    project_id = fields.Int(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class VersionSchema(Schema):
    version = fields.Int(required=True)
    filename = fields.Str(required=True)
    media_type = fields.Str(required=True)
    page_count = fields.Int(required=True)
    size = fields.Int(attribute="plain_size", required=True)
    sha256 = fields.Str(attribute="plain_sha256", required=True)
    note = fields.Str(required=True)
    uploaded_at = fields.DateTime(required=True)


class VersionListSchema(Schema):
    items = fields.List(fields.Nested(VersionSchema), required=True)


class DocumentSchema(Schema):
    id = fields.Int(required=True)
    dossier_id = fields.Int(required=True)
    archive_number = fields.Str(required=True)
    category = fields.Enum(Category, by_value=True, required=True)
    title = fields.Str(required=True)
    responsible_party = fields.Str(required=True)
    doc_number = fields.Str(required=True)
    doc_date = fields.Date(required=True)
    department = fields.Function(lambda doc: doc.department.code, required=True)
    level = fields.Enum(Level, by_value=True, required=True)
    page_count = fields.Int(required=True)
    is_original = fields.Bool(required=True)
    carrier = fields.Enum(Carrier, by_value=True, required=True)
    retention = fields.Enum(Retention, by_value=True, required=True)
    disposed = fields.Function(lambda doc: doc.disposed_at is not None, required=True)
    created_at = fields.DateTime(required=True)


class DocumentPageSchema(PageSchema):
    items = fields.List(fields.Nested(DocumentSchema), required=True)


class DocumentListSchema(Schema):
    items = fields.List(fields.Nested(DocumentSchema), required=True)


_TEXT = validate.Length(min=1, max=300)
_SHORT = validate.Length(max=50)


class UploadArgs(Schema):
    """The multipart body of a filing: the metadata of DocumentMetadata and one or more files."""

    file = fields.List(Upload(), required=True,
                       metadata={"description": "one or more PDF, JPEG, PNG or TIFF files; one document each"})
    category = fields.Enum(Category, by_value=True, required=True)
    title = fields.Str(required=True, validate=_TEXT)
    responsible_party = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    doc_date = fields.Date(required=True)
    department = fields.Str(load_default=None, validate=validate.Length(max=20),
                            metadata={"description": "the responsible department's code; default: the caller's"})
    level = fields.Enum(Level, by_value=True, load_default=Level.C)
    doc_number = fields.Str(load_default="", validate=validate.Length(max=100))
    page_count = fields.Int(load_default=None, validate=validate.Range(min=0, max=100_000))
    is_original = fields.Bool(load_default=True)
    carrier = fields.Enum(Carrier, by_value=True, load_default=Carrier.ELECTRONIC)
    retention = fields.Enum(Retention, by_value=True, load_default=None)
    location_room = fields.Str(load_default="", validate=_SHORT)
    location_box = fields.Str(load_default="", validate=_SHORT)
    location_shelf = fields.Str(load_default="", validate=_SHORT)
    remarks = fields.Str(load_default="", validate=validate.Length(max=2000))


class VersionArgs(Schema):
    file = Upload(required=True)
    note = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class DownloadArgs(Schema):
    version = fields.Int(load_default=None, validate=validate.Range(min=1, max=MAX_ID),
                         metadata={"description": "a version number; default: the newest"})


class SearchArgs(Schema):
    q = fields.Str(load_default="", validate=validate.Length(max=500))
    category = fields.Enum(Category, by_value=True, load_default=None)
    level = fields.Enum(Level, by_value=True, load_default=None)
    project_id = fields.Int(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    sort = fields.Str(load_default="relevance", validate=validate.OneOf(["relevance", "date"]))
    cursor = fields.Str(load_default=None, validate=validate.Length(max=200))
    limit = fields.Int(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))


class HitSchema(Schema):
    document = fields.Nested(DocumentSchema, required=True)
    snippet = fields.Function(lambda hit: str(hit.snippet.striptags()), required=True,
                              metadata={"description": "the matching passage, as plain text"})


class SearchResultSchema(PageSchema):
    total = fields.Int(required=True, metadata={"description": "matches the caller may read"})
    items = fields.List(fields.Nested(HitSchema), required=True)


class LoanItemSchema(Schema):
    id = fields.Int(required=True)
    document_id = fields.Int(required=True)
    archive_number = fields.Function(lambda item: item.document.archive_number, required=True)
    state = fields.Enum(ItemState, by_value=True, required=True)
    pages_issued = fields.Int(allow_none=True, required=True)
    pages_returned = fields.Int(allow_none=True, required=True)


class LoanStepSchema(Schema):
    id = fields.Int(required=True)
    loan_id = fields.Int(required=True)
    kind = fields.Enum(StepKind, by_value=True, required=True)
    department = fields.Function(lambda step: step.department.code if step.department else None, allow_none=True,
                                 required=True)
    decision = fields.Enum(Decision, by_value=True, allow_none=True, required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)
    comment = fields.Str(required=True)


class LoanSchema(Schema):
    id = fields.Int(required=True)
    number = fields.Str(allow_none=True, required=True)
    status = fields.Enum(LoanStatus, by_value=True, required=True)
    use = fields.Enum(LoanUse, by_value=True, required=True)
    purpose = fields.Str(required=True)
    start_date = fields.Date(required=True)
    due_date = fields.Date(required=True)
    level = fields.Enum(Level, by_value=True, allow_none=True, required=True)
    borrower = fields.Function(lambda loan: loan.borrower.username, required=True)
    items = fields.List(fields.Nested(LoanItemSchema), required=True)
    steps = fields.List(fields.Nested(LoanStepSchema), required=True)


class LoanListSchema(Schema):
    items = fields.List(fields.Nested(LoanSchema), required=True)


class LoanStepListSchema(Schema):
    items = fields.List(fields.Nested(LoanStepSchema), required=True)


class LoanRequestArgs(Schema):
    document_ids = fields.List(fields.Int(validate=validate.Range(min=1, max=MAX_ID)), load_default=list,
                               validate=validate.Length(max=500))
    dossier_ids = fields.List(fields.Int(validate=validate.Range(min=1, max=MAX_ID)), load_default=list,
                              validate=validate.Length(max=50))
    purpose = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    use = fields.Enum(LoanUse, by_value=True, load_default=LoanUse.VIEW)
    start_date = fields.Date(required=True)
    due_date = fields.Date(required=True)


class DecisionArgs(Schema):
    decision = fields.Enum(Decision, by_value=True, required=True)
    comment = fields.Str(load_default="", validate=validate.Length(max=1000))


class IssueArgs(Schema):
    pages = fields.Dict(keys=fields.Str(), values=fields.Int(validate=validate.Range(min=0, max=100_000)),
                        load_default=None, metadata={"description": "pages handed out, by loan item id"})


class ReturnCheckSchema(Schema):
    item_id = fields.Int(required=True, validate=validate.Range(min=1, max=MAX_ID))
    state = fields.Enum(ItemState, by_value=True, required=True)
    pages = fields.Int(load_default=None, validate=validate.Range(min=0, max=100_000))
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class ReturnArgs(Schema):
    items = fields.List(fields.Nested(ReturnCheckSchema), required=True, validate=validate.Length(min=1, max=500))


class RenewArgs(Schema):
    due_date = fields.Date(required=True)
    purpose = fields.Str(required=True, validate=validate.Length(min=1, max=2000))


class HandoverRuleSchema(Schema):
    id = fields.Int(required=True)
    category = fields.Enum(Category, by_value=True, required=True)
    from_department = fields.Function(lambda rule: rule.from_department.code, required=True)
    to_department = fields.Function(lambda rule: rule.to_department.code, required=True)


class HandoverRuleListSchema(Schema):
    items = fields.List(fields.Nested(HandoverRuleSchema), required=True)


class HandoverItemSchema(Schema):
    id = fields.Int(required=True)
    document_id = fields.Int(required=True)
    archive_number = fields.Function(lambda item: item.document.archive_number, required=True)
    title = fields.Function(lambda item: item.document.title, required=True)
    level = fields.Function(lambda item: item.document.level.value, required=True)
    carrier = fields.Enum(Carrier, by_value=True, required=True)
    item_count = fields.Int(required=True, metadata={"description": "件数, as listed"})
    pages = fields.Int(required=True, metadata={"description": "页数, as listed"})
    is_original = fields.Bool(required=True)
    condition = fields.Str(required=True)
    remarks = fields.Str(required=True)
    check = fields.Enum(ItemCheck, by_value=True, required=True)
    counted_items = fields.Int(allow_none=True, required=True)
    counted_pages = fields.Int(allow_none=True, required=True)
    reason = fields.Str(required=True, metadata={"description": "why the receiver returned the item"})
    check_report = fields.Dict(allow_none=True, required=True, metadata={
        "description": "for an electronic file: the four-property results (authenticity, integrity, usability, "
                       "security), each {ok, findings}, as the check recorded them"})
    checked_at = fields.DateTime(allow_none=True, required=True)


def _username(user) -> str | None:
    return user.username if user is not None else None


class HandoverSchema(Schema):
    id = fields.Int(required=True)
    number = fields.Str(required=True, metadata={"description": "also the receipt number (交接清单编号)"})
    status = fields.Enum(HandoverStatus, by_value=True, required=True)
    from_department = fields.Function(lambda handover: handover.from_department.code, required=True)
    to_department = fields.Function(lambda handover: handover.to_department.code, required=True)
    rule_id = fields.Int(allow_none=True, required=True)
    note = fields.Str(required=True)
    witness_required = fields.Bool(required=True, metadata={"description": "the batch lists B or A documents"})
    created_at = fields.DateTime(required=True)
    created_by = fields.Function(lambda handover: handover.created_by.username, required=True)
    signed_off_at = fields.DateTime(allow_none=True, required=True)
    signed_off_by = fields.Function(lambda handover: _username(handover.signed_off_by), allow_none=True,
                                    required=True)
    sent_at = fields.DateTime(allow_none=True, required=True)
    received_at = fields.DateTime(allow_none=True, required=True)
    received_by = fields.Function(lambda handover: _username(handover.received_by), allow_none=True, required=True)
    sender_confirmed_at = fields.DateTime(allow_none=True, required=True)
    witnessed_at = fields.DateTime(allow_none=True, required=True)
    witness = fields.Function(lambda handover: _username(handover.witness), allow_none=True, required=True)
    cancelled_at = fields.DateTime(allow_none=True, required=True)
    receipt_sha256 = fields.Str(allow_none=True, required=True,
                                metadata={"description": "the content hash the receipt's QR code carries"})
    items = fields.List(fields.Nested(HandoverItemSchema), required=True)


class HandoverDetailSchema(HandoverSchema):
    actions = fields.Function(lambda handover: sorted(handover_actions(current_user, handover)),
                              required=True, metadata={
        "description": "the steps the caller may take now: edit, sign_off, send, cancel, check, confirm_receipt, "
                       "witness, confirm_sending, open_receipt",
        "type": "array", "items": {"type": "string"}})


class HandoverPageSchema(PageSchema):
    items = fields.List(fields.Nested(HandoverSchema), required=True)


class HandoverListArgs(CursorArgs):
    status = fields.Enum(HandoverStatus, by_value=True, load_default=None)


class NewHandoverArgs(Schema):
    rule_id = fields.Int(required=True, validate=validate.Range(min=1, max=MAX_ID))
    note = fields.Str(load_default="", validate=validate.Length(max=2000))


class HandoverDocumentsArgs(Schema):
    document_ids = fields.List(fields.Int(validate=validate.Range(min=1, max=MAX_ID)), required=True,
                               validate=validate.Length(min=1, max=500))


class ByRuleArgs(Schema):
    project_id = fields.Int(required=True, validate=validate.Range(min=1, max=MAX_ID))


class HandoverLineArgs(Schema):
    """Corrections of a draft line as the paper shows it; only the fields sent change."""

    carrier = fields.Enum(Carrier, by_value=True)
    item_count = fields.Int(validate=validate.Range(min=1, max=100_000))
    pages = fields.Int(validate=validate.Range(min=0, max=100_000))
    is_original = fields.Bool()
    condition = fields.Str(validate=validate.Length(max=200))
    remarks = fields.Str(validate=validate.Length(max=500))


class ItemCountArgs(Schema):
    item_id = fields.Int(required=True, validate=validate.Range(min=1, max=MAX_ID))
    counted_items = fields.Int(required=True, validate=validate.Range(min=0, max=100_000))
    counted_pages = fields.Int(required=True, validate=validate.Range(min=0, max=100_000))
    reason = fields.Str(load_default="", validate=validate.Length(max=500),
                        metadata={"description": "damage, a missing page…: returns the item to the sender"})


class CheckArgs(Schema):
    items = fields.List(fields.Nested(ItemCountArgs), required=True, validate=validate.Length(min=1, max=500))


class CheckResultSchema(Schema):
    items = fields.List(fields.Nested(HandoverItemSchema), required=True,
                        metadata={"description": "the lines just checked, each accepted or returned with the reason"})
    accepted = fields.Int(required=True, metadata={"description": "lines of the batch accepted so far"})
    returned = fields.Int(required=True)
    pending = fields.Int(required=True, metadata={"description": "lines not yet checked"})


class CancelArgs(Schema):
    reason = fields.Str(load_default="", validate=validate.Length(max=500))

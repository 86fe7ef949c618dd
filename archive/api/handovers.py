"""Handovers (移交): batches, their lines and every step from assembly to the receipt, through the handover
services (which lock the batch and ask the one policy)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from ..core.errors import NotFound
from ..core.permissions import policy
from ..core.web import send_private
from ..handovers import services as handovers
from ..handovers.models import Handover, ItemCheck
from .framework import ROW_ID, ApiBlueprint
from .pagination import keyset_page
from .schemas import (ByRuleArgs, CancelArgs, CheckArgs, CheckResultSchema, HandoverDetailSchema,
                      HandoverDocumentsArgs, HandoverLineArgs, HandoverListArgs, HandoverPageSchema,
                      HandoverRuleListSchema, NewHandoverArgs)

blp = ApiBlueprint("api_handovers", __name__, description="Handovers (移交) between departments and their receipts")

BATCH = f"/handovers/<{ROW_ID}:handover_id>"
LINE = f"{BATCH}/items/<{ROW_ID}:item_id>"
RECEIPT_RESPONSE = {
    "description": "the receipt (交接清单) PDF, decrypted and streamed; opening it is audited",
    "content": {handovers.RECEIPT_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
}


def _batch(handover_id: int) -> Handover:
    """The batch as the caller sees it after a step that answers with something else."""
    return handovers.get_handover(current_user, handover_id)


def _line_of(handover_id: int, item_id: int) -> None:
    """A line is addressed under its batch: a line of another batch is not found here."""
    if item_id not in {item.id for item in handovers.get_handover(current_user, handover_id).items}:
        raise NotFound("Not found.")


@blp.get("/handover-rules")
@blp.response(200, HandoverRuleListSchema)
def assembly_rules():
    """The rules the caller may assemble a batch under (their own department's)."""
    return {"items": handovers.assembly_rules(current_user)}


@blp.get("/handovers")
@blp.arguments(HandoverListArgs, location="query")
@blp.response(200, HandoverPageSchema)
def list_batches(args):
    """The batches the caller may read (either department's, up to the caller's clearance), oldest first."""
    stmt = sa.select(Handover).where(policy.where(current_user, "read", Handover))
    if args["status"] is not None:
        stmt = stmt.where(Handover.status == args["status"])
    page = keyset_page(stmt, Handover.id, args["cursor"], args["limit"])
    return {"items": page.items, "next_cursor": page.next_cursor, "next": page.next}


@blp.post("/handovers")
@blp.arguments(NewHandoverArgs)
@blp.response(201, HandoverDetailSchema)
def create_batch(args):
    """A draft batch under a rule, from the rule's handing department to its receiving one."""
    return handovers.create_batch(current_user, args["rule_id"], args["note"])


@blp.get(BATCH)
@blp.response(200, HandoverDetailSchema)
def get_batch(handover_id: int):
    return _batch(handover_id)


@blp.post(f"{BATCH}/documents")
@blp.arguments(HandoverDocumentsArgs)
@blp.response(200, HandoverDetailSchema)
def add_documents(args, handover_id: int):
    """The documents become lines, all or none; each refusal is named with its reason."""
    handovers.add_documents(current_user, handover_id, args["document_ids"])
    return _batch(handover_id)


@blp.post(f"{BATCH}/by-rule")
@blp.arguments(ByRuleArgs)
@blp.response(200, HandoverDetailSchema)
def add_by_rule(args, handover_id: int):
    """Every document of the project the batch may still take (its category, not yet handed over)."""
    handovers.add_by_rule(current_user, handover_id, args["project_id"])
    return _batch(handover_id)


@blp.patch(LINE)
@blp.arguments(HandoverLineArgs)
@blp.response(200, HandoverDetailSchema)
def update_line(args, handover_id: int, item_id: int):
    """Correct a draft line as the paper shows it; only the fields sent change."""
    _line_of(handover_id, item_id)
    handovers.update_item(current_user, item_id, **args)
    return _batch(handover_id)


@blp.delete(LINE)
@blp.response(200, HandoverDetailSchema)
def remove_line(handover_id: int, item_id: int):
    """Take a line off a draft batch."""
    _line_of(handover_id, item_id)
    return handovers.remove_item(current_user, item_id)


@blp.post(f"{BATCH}/sign-off")
@blp.response(200, HandoverDetailSchema)
def sign_off(handover_id: int):
    """The handing department's head approves the list as it stands."""
    return handovers.sign_off(current_user, handover_id)


@blp.post(f"{BATCH}/send")
@blp.response(200, HandoverDetailSchema)
def send(handover_id: int):
    """The documents are in transit: their department can no longer change them."""
    return handovers.send(current_user, handover_id)


@blp.post(f"{BATCH}/cancel")
@blp.arguments(CancelArgs)
@blp.response(200, HandoverDetailSchema)
def cancel(args, handover_id: int):
    """Drop a batch not yet sent; its documents are free for another batch."""
    return handovers.cancel(current_user, handover_id, args["reason"])


@blp.post(f"{BATCH}/checks")
@blp.arguments(CheckArgs)
@blp.response(200, CheckResultSchema)
def check_items(args, handover_id: int):
    """The receiver counts lines against the list (an electronic file also gets the four-property checks).
    A differing count, a failed check or a reason returns the line; otherwise it is accepted. Each line is
    checked on its own, in the order sent, and may be checked again until the receipt is confirmed."""
    for check in args["items"]:
        _line_of(handover_id, check["item_id"])
    checked = [handovers.check_item(current_user, check["item_id"], counted_items=check["counted_items"],
                                    counted_pages=check["counted_pages"], reason=check["reason"])
               for check in args["items"]]
    lines = handovers.get_handover(current_user, handover_id).items
    return {"items": checked, "accepted": sum(line.check is ItemCheck.ACCEPTED for line in lines),
            "returned": sum(line.check is ItemCheck.RETURNED for line in lines),
            "pending": sum(line.check is ItemCheck.PENDING for line in lines)}


@blp.post(f"{BATCH}/confirm-receipt")
@blp.response(200, HandoverDetailSchema)
def confirm_receipt(handover_id: int):
    """The receiver confirms its checks once every line is checked."""
    return handovers.confirm_receipt(current_user, handover_id)


@blp.post(f"{BATCH}/witness")
@blp.response(200, HandoverDetailSchema)
def witness(handover_id: int):
    """The witness (监交人) confirms after the receiver; nobody who acted on the batch may witness it."""
    return handovers.witness_confirm(current_user, handover_id)


@blp.post(f"{BATCH}/confirm-sending")
@blp.response(200, HandoverDetailSchema)
def confirm_sending(handover_id: int):
    """The handing side confirms the checked list; with the witness (when required) the batch is completed,
    custody of the accepted documents passes and the receipt is filed."""
    return handovers.confirm_sending(current_user, handover_id)


@blp.get(f"{BATCH}/receipt.pdf")
@blp.doc(responses={"200": RECEIPT_RESPONSE})
def receipt(handover_id: int):
    """The completed batch's receipt (交接清单), streamed."""
    to_send = handovers.open_receipt(current_user, handover_id)
    return send_private(to_send.stream, media_type=to_send.media_type, filename=to_send.filename,
                        as_attachment=True)

"""Handovers (移交): a batch is assembled, signed off, sent, checked item by item and confirmed by both sides
(and a witness when required); then custody passes and the receipt (交接清单) is filed encrypted.

Every transition locks the batch row first and reads its state again under the lock, so two people acting at
the same moment get one consistent outcome.
"""
from __future__ import annotations

import hmac
import io
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa

from ..audit import services as audit
from ..core.clock import local_today
from ..core.enums import CATEGORY_LABELS, Carrier, Level
from ..core.errors import AccessDenied, Conflict, NotFound, ValidationError
from ..core.keys import blob_store
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import UnitOfWork, locked, unit_of_work
from ..documents.models import Document
from ..documents.numbering import next_in_sequence
from ..extensions import db
from ..integrity.checks import four_property_check
from ..integrity.models import CheckContext
from ..retention.guards import disposed_refusal
from ..search.indexing import schedule_index
from ..units.models import Dossier
from .deadlines import OPEN_STATUSES, handed_over_from
from .models import HANDOVER_STATUS_LABELS, Handover, HandoverItem, HandoverRule, HandoverStatus, ItemCheck
from .receipt import receipt_pdf

EDITABLE_LINE_FIELDS = ("carrier", "item_count", "pages", "is_original", "condition", "remarks")
CANCELLABLE = (HandoverStatus.DRAFT, HandoverStatus.SIGNED_OFF)
RECEIPT_MEDIA_TYPE = "application/pdf"


def N_(message: str) -> str:
    """Marks a message kept in English in the record (an item's reason) for extraction."""
    return message


# Locking and reading ----------------------------------------------------------------------------------


def _locked_for(identity, handover_id: int, action: str, *allowed: HandoverStatus) -> Handover:
    """Lock, make sure the identity sees the batch (else 404) and may do `action`, and that its state allows it."""
    handover = locked(Handover, handover_id)
    policy.require(identity, "read", handover)
    policy.require(identity, action, handover)
    _require_status(handover, *allowed)
    return handover


def _require_status(handover: Handover, *allowed: HandoverStatus) -> None:
    if handover.status not in allowed:
        raise Conflict("Handover %(number)s is %(status)s: this step is not possible now.",
                       number=handover.number, status=HANDOVER_STATUS_LABELS[handover.status])


def _handover_id_of(item_id: int) -> int:
    handover_id = db.session.scalar(sa.select(HandoverItem.handover_id).where(HandoverItem.id == item_id))
    if handover_id is None:
        raise NotFound("Not found.")
    return handover_id


def _highest_level(handover: Handover) -> Level:
    return max((item.document.level for item in handover.items), key=lambda lvl: lvl.rank, default=Level.C)


def get_handover(identity, handover_id: int) -> Handover:
    return policy.fetch(identity, "read", Handover, handover_id)


def list_handovers(identity, *, status: HandoverStatus | None = None, department_id: int | None = None
                   ) -> list[Handover]:
    """Batches the identity may see, newest first; optionally of one state, or handed or received by a department."""
    stmt = sa.select(Handover).where(policy.where(identity, "read", Handover))
    if status is not None:
        stmt = stmt.where(Handover.status == HandoverStatus(status))
    if department_id is not None:
        stmt = stmt.where(sa.or_(Handover.from_department_id == department_id,
                                 Handover.to_department_id == department_id))
    return list(db.session.scalars(stmt.order_by(Handover.created_at.desc(), Handover.id.desc())))


# The steps that wait for someone: the dashboard lists the batches where one of them is the identity's to take.
WAITING_STEPS = frozenset({"sign_off", "send", "check", "confirm_receipt", "witness", "confirm_sending"})


def waiting_for(identity) -> list[Handover]:
    """Open batches the identity may see with a step theirs to take now (sign off, check, …), oldest first."""
    batches = db.session.scalars(
        sa.select(Handover).where(policy.where(identity, "read", Handover), Handover.status.in_(OPEN_STATUSES))
        .order_by(Handover.created_at, Handover.id)
    )
    return [handover for handover in batches if actions(identity, handover) & WAITING_STEPS]


def assembly_rules(identity) -> list[HandoverRule]:
    """The active rules the identity may assemble a batch under (its own department's)."""
    return list(db.session.scalars(
        sa.select(HandoverRule).where(HandoverRule.active.is_(True), policy.where(identity, "assemble", HandoverRule))
        .order_by(HandoverRule.category)
    ))


def _actors(handover: Handover) -> set[int]:
    """Everyone who acted on the batch on either side: none of them may witness it."""
    ids = {handover.created_by_id, handover.signed_off_by_id, handover.sent_by_id, handover.received_by_id,
           handover.sender_confirmed_by_id}
    ids |= {item.checked_by_id for item in handover.items}
    return {i for i in ids if i is not None}


def actions(identity, handover: Handover) -> frozenset[str]:
    """The steps the identity may take on the batch now, as the services decide them: for the page's buttons.

    Names: edit, sign_off, send, cancel, check, confirm_receipt, witness, confirm_sending, open_receipt.
    """
    if not policy.can(identity, "read", handover):
        return frozenset()
    status, can = handover.status, (lambda action: policy.can(identity, action, handover))
    allowed = set()
    if status is HandoverStatus.DRAFT and can("edit"):
        allowed.add("edit")
    if status is HandoverStatus.DRAFT and handover.items and can("sign_off"):
        allowed.add("sign_off")
    if status is HandoverStatus.SIGNED_OFF and can("send"):
        allowed.add("send")
    if status in CANCELLABLE and can("cancel"):
        allowed.add("cancel")
    if status is HandoverStatus.SENT and can("check"):
        allowed.add("check")
        if all(item.check is not ItemCheck.PENDING for item in handover.items):
            allowed.add("confirm_receipt")
    if status is HandoverStatus.CHECKED:
        if handover.witness_required and handover.witness_id is None and can("witness") \
                and identity.id not in _actors(handover):
            allowed.add("witness")
        if handover.sender_confirmed_at is None and can("confirm_sending"):
            allowed.add("confirm_sending")
    if status is HandoverStatus.COMPLETED and handover.receipt_blob_id:
        allowed.add("open_receipt")
    return frozenset(allowed)


# Assembling ---------------------------------------------------------------------------------------------


def _handover_number() -> str:
    year = local_today().year
    return f"YJ-{year}-{next_in_sequence(f'handover:{year}'):04d}"


def create_batch(identity, rule_id: int, note: str = "") -> Handover:
    """A new draft batch under a rule: from the rule's handing department to its receiving one."""
    rule = db.session.get(HandoverRule, rule_id)
    if rule is None or not rule.active:
        raise NotFound("Not found.")
    policy.require(identity, "assemble", rule)
    with unit_of_work():
        handover = Handover(
            number=_handover_number(), from_department_id=rule.from_department_id,
            to_department_id=rule.to_department_id, rule_id=rule.id, status=HandoverStatus.DRAFT,
            note=note.strip()[:2000], created_by_id=identity.id,
        )
        db.session.add(handover)
        db.session.flush()
        audit.record("handover.create", actor=identity, obj=handover, number=handover.number,
                     rule=f"{rule.category.value}:{rule.from_department.code}>{rule.to_department.code}",
                     from_department=rule.from_department.code, to_department=rule.to_department.code)
    return handover


def _other_batch(document_id: int, handover_id: int) -> Handover | None:
    """An open batch, not this one, that carries the document (a returned line does not)."""
    return db.session.scalars(
        sa.select(Handover).join(HandoverItem, HandoverItem.handover_id == Handover.id)
        .where(HandoverItem.document_id == document_id, Handover.id != handover_id,
               Handover.status.in_(OPEN_STATUSES), HandoverItem.check != ItemCheck.RETURNED)
        .limit(1)
    ).first()


def _earlier_handover(document_id: int, from_department_id: int) -> Handover | None:
    return db.session.scalars(
        sa.select(Handover).join(HandoverItem, HandoverItem.handover_id == Handover.id)
        .where(HandoverItem.document_id == document_id, HandoverItem.check == ItemCheck.ACCEPTED,
               Handover.status == HandoverStatus.COMPLETED, Handover.from_department_id == from_department_id)
        .limit(1)
    ).first()


def _refusal(handover: Handover, document: Document) -> ValidationError | None:
    """Why the document cannot be a line of this batch, or None."""
    number = document.archive_number
    disposed = disposed_refusal(document)
    if disposed is not None:
        return disposed
    if document.department_id != handover.from_department_id:
        return ValidationError("%(number)s is not a document of %(department)s.", number=number,
                               department=handover.from_department.name)
    if handover.rule is not None and document.category is not handover.rule.category:
        return ValidationError("%(number)s is not of the category this batch hands over (%(category)s).",
                               number=number, category=CATEGORY_LABELS[handover.rule.category])
    if any(item.document_id == document.id for item in handover.items):
        return ValidationError("%(number)s is already on this list.", number=number)
    other = _other_batch(document.id, handover.id)
    if other is not None:
        return ValidationError("%(number)s is already in handover %(other)s.", number=number, other=other.number)
    earlier = _earlier_handover(document.id, handover.from_department_id)
    if earlier is not None:
        return ValidationError("%(number)s was already handed over in %(other)s.", number=number,
                               other=earlier.number)
    return None


def _new_line(document: Document) -> HandoverItem:
    """A line as the document's record describes it; the clerk corrects what the paper shows."""
    return HandoverItem(document=document, carrier=document.carrier, item_count=1, pages=document.page_count,
                        is_original=document.is_original)


def _add_lines(identity, handover: Handover, documents: list[Document]) -> list[HandoverItem]:
    added = []
    for document in documents:
        item = _new_line(document)
        handover.items.append(item)
        added.append(item)
    handover.witness_required = _highest_level(handover).rank >= Level.B.rank
    db.session.flush()
    audit.record("handover.add_item", actor=identity, obj=handover, number=handover.number,
                 documents=[d.archive_number for d in documents])
    return added


def _lock_documents(document_ids: list[int]) -> None:
    """Serialises two batches taking the same document at the same moment."""
    db.session.execute(sa.select(Document.id).where(Document.id.in_(document_ids)).with_for_update())


def add_documents(identity, handover_id: int, document_ids: list[int]) -> list[HandoverItem]:
    """Picked documents become lines, all or none: each refusal is named with its reason."""
    if not document_ids:
        raise ValidationError("Choose at least one document.")
    document_ids = list(dict.fromkeys(document_ids))
    with unit_of_work():
        handover = _locked_for(identity, handover_id, "edit", HandoverStatus.DRAFT)
        _lock_documents(document_ids)
        documents, problems = [], []
        for document_id in document_ids:
            document = db.session.get(Document, document_id)
            if document is None or not policy.can(identity, "read", document):
                raise NotFound("Not found.")
            refusal = _refusal(handover, document)
            if refusal is not None:
                problems.append(refusal)
            documents.append(document)
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise ValidationError("%(count)s documents were refused, none was added.", count=len(problems),
                                  problems=problems)
        return _add_lines(identity, handover, documents)


def candidates(identity, handover_id: int, project_id: int | None = None) -> list[Document]:
    """What the batch may still take: the handing department's documents of the rule's category that the
    identity may read, not on an open batch and not yet handed over; optionally of one project."""
    handover = get_handover(identity, handover_id)
    if not policy.can(identity, "edit", handover):
        raise AccessDenied("edit", handover)
    stmt = sa.select(Document).where(
        Document.department_id == handover.from_department_id,
        policy.where(identity, "read", Document),
        Document.disposed_at.is_(None),
        ~handed_over_from(handover.from_department_id),
        ~sa.exists().where(
            HandoverItem.document_id == Document.id, HandoverItem.handover_id == Handover.id,
            Handover.status.in_(OPEN_STATUSES), HandoverItem.check != ItemCheck.RETURNED,
        ),
    )
    if handover.rule is not None:
        stmt = stmt.where(Document.category == handover.rule.category)
    if project_id is not None:
        stmt = stmt.where(Document.dossier_id.in_(sa.select(Dossier.id).where(Dossier.project_id == project_id)))
    return list(db.session.scalars(stmt.order_by(Document.archive_number)).unique())


def add_by_rule(identity, handover_id: int, project_id: int) -> list[HandoverItem]:
    """"All <category> documents of project X not yet handed over": every candidate of the project becomes a line."""
    with unit_of_work():
        handover = _locked_for(identity, handover_id, "edit", HandoverStatus.DRAFT)
        found = candidates(identity, handover.id, project_id)
        _lock_documents([d.id for d in found])
        documents = [d for d in candidates(identity, handover.id, project_id)
                     if _refusal(handover, d) is None]
        if not documents:
            raise ValidationError("No document of this project is waiting to be handed over in this batch.")
        return _add_lines(identity, handover, documents)


def update_item(identity, item_id: int, **changes) -> HandoverItem:
    """Correct a draft line as the paper shows it: carrier, item_count, pages, is_original, condition, remarks."""
    unknown = set(changes) - set(EDITABLE_LINE_FIELDS)
    if unknown:
        raise ValidationError("These fields cannot be edited here: %(fields)s", fields=", ".join(sorted(unknown)))
    with unit_of_work():
        handover = _locked_for(identity, _handover_id_of(item_id), "edit", HandoverStatus.DRAFT)
        item = next(i for i in handover.items if i.id == item_id)
        diff = {}
        for name, new in changes.items():
            new = _clean_line_value(name, new)
            old = getattr(item, name)
            if old != new:
                diff[name] = [old.value if isinstance(old, Carrier) else old,
                              new.value if isinstance(new, Carrier) else new]
                setattr(item, name, new)
        if diff:
            audit.record("handover.edit_item", actor=identity, obj=handover, number=handover.number,
                         document=item.document.archive_number, changes=diff)
    return item


def _clean_line_value(name: str, value):
    if name == "carrier":
        try:
            return Carrier(value)
        except ValueError:
            raise ValidationError("Choose paper or electronic.") from None
    if name in ("item_count", "pages"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError("Counts of items and pages are whole numbers, not negative.")
        if name == "item_count" and value < 1:
            raise ValidationError("A line holds at least one item.")
        return value
    if name == "is_original":
        return bool(value)
    return str(value).strip()[:500 if name == "remarks" else 200]


def remove_item(identity, item_id: int) -> Handover:
    with unit_of_work():
        handover = _locked_for(identity, _handover_id_of(item_id), "edit", HandoverStatus.DRAFT)
        item = next(i for i in handover.items if i.id == item_id)
        number = item.document.archive_number
        handover.items.remove(item)
        db.session.flush()
        handover.witness_required = _highest_level(handover).rank >= Level.B.rank
        audit.record("handover.remove_item", actor=identity, obj=handover, number=handover.number, document=number)
    return handover


# The handing side ---------------------------------------------------------------------------------------


def sign_off(identity, handover_id: int) -> Handover:
    """The handing department's head approves the list as it stands."""
    with unit_of_work():
        handover = locked(Handover, handover_id)
        policy.require(identity, "read", handover)
        if not policy.can(identity, "sign_off", handover):
            raise ValidationError("Only a head of %(department)s can sign off its handovers.",
                                  department=handover.from_department.name)
        _require_status(handover, HandoverStatus.DRAFT)
        if not handover.items:
            raise ValidationError("The batch lists no document: add documents first.")
        handover.status, handover.signed_off_at, handover.signed_off_by_id = (
            HandoverStatus.SIGNED_OFF, utcnow(), identity.id)
        audit.record("handover.sign_off", actor=identity, obj=handover, number=handover.number,
                     items=len(handover.items))
    return handover


def send(identity, handover_id: int) -> Handover:
    """From now on the documents are in transit: their department can no longer change them."""
    with unit_of_work():
        handover = _locked_for(identity, handover_id, "send", HandoverStatus.SIGNED_OFF)
        handover.status, handover.sent_at, handover.sent_by_id = HandoverStatus.SENT, utcnow(), identity.id
        audit.record("handover.send", actor=identity, obj=handover, number=handover.number,
                     to_department=handover.to_department.code,
                     documents=[item.document.archive_number for item in handover.items])
    return handover


def cancel(identity, handover_id: int, reason: str = "") -> Handover:
    """A batch not yet sent may be dropped; its documents are free for another batch."""
    with unit_of_work():
        handover = _locked_for(identity, handover_id, "cancel", *CANCELLABLE)
        handover.status, handover.cancelled_at = HandoverStatus.CANCELLED, utcnow()
        audit.record("handover.cancel", actor=identity, obj=handover, number=handover.number,
                     reason=reason.strip()[:500])
    return handover


# The receiving side -------------------------------------------------------------------------------------


def check_item(identity, item_id: int, *, counted_items: int, counted_pages: int, reason: str = "") -> HandoverItem:
    """The receiver counts the line against the list; an electronic file gets the four-property checks.

    A count that differs, a failed check or a reason given by the receiver (damage, a missing page) returns
    the item to the handing department; otherwise it is accepted. A line may be checked again until the
    receipt is confirmed.
    """
    for value in (counted_items, counted_pages):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError("Counts of items and pages are whole numbers, not negative.")
    with unit_of_work() as uow:
        handover = _locked_for(identity, _handover_id_of(item_id), "check", HandoverStatus.SENT)
        item = next(i for i in handover.items if i.id == item_id)
        reasons = []
        if (counted_items, counted_pages) != (item.item_count, item.pages):
            reasons.append(_counts_differ(item, counted_items, counted_pages))
        item.check_report = None
        if item.carrier is Carrier.ELECTRONIC:
            outcome = four_property_check(item.document, context=CheckContext.HANDOVER, actor=identity, uow=uow)
            item.check_report = outcome.results  # the findings, untranslated with their parameters
            reasons += [finding["message"] % finding["params"] for _, finding in outcome.failures]
        if reason.strip():
            reasons.append(reason.strip())
        item.counted_items, item.counted_pages = counted_items, counted_pages
        item.check = ItemCheck.RETURNED if reasons else ItemCheck.ACCEPTED
        item.reason = "; ".join(reasons)[:500]
        item.checked_at, item.checked_by_id = utcnow(), identity.id
        audit.record("handover.check_item", actor=identity, obj=handover, number=handover.number,
                     document=item.document.archive_number, outcome=item.check.value, counted_items=counted_items,
                     counted_pages=counted_pages, reason=item.reason)
    return item


def _counts_differ(item: HandoverItem, counted_items: int, counted_pages: int) -> str:
    return N_("Counted %(counted_items)s item(s) and %(counted_pages)s page(s); the list says %(items)s item(s) "
              "and %(pages)s page(s).") % dict(counted_items=counted_items, counted_pages=counted_pages,
                                               items=item.item_count, pages=item.pages)


def confirm_receipt(identity, handover_id: int) -> Handover:
    """The receiver confirms its checks once every line is checked."""
    with unit_of_work():
        handover = _locked_for(identity, handover_id, "check", HandoverStatus.SENT)
        unchecked = [item.document.archive_number for item in handover.items if item.check is ItemCheck.PENDING]
        if unchecked:
            raise ValidationError("Check every item first; not yet checked: %(numbers)s",
                                  numbers=", ".join(unchecked))
        handover.status, handover.received_at, handover.received_by_id = (
            HandoverStatus.CHECKED, utcnow(), identity.id)
        audit.record("handover.confirm_receipt", actor=identity, obj=handover, number=handover.number,
                     accepted=sum(item.check is ItemCheck.ACCEPTED for item in handover.items),
                     returned=sum(item.check is ItemCheck.RETURNED for item in handover.items))
    return handover


def witness_confirm(identity, handover_id: int) -> Handover:
    """The witness (监交人) confirms after the receiver; someone who acted on the batch cannot witness it."""
    with unit_of_work() as uow:
        handover = locked(Handover, handover_id)
        policy.require(identity, "read", handover)
        if not handover.witness_required:
            raise ValidationError("Handover %(number)s needs no witness.", number=handover.number)
        _require_status(handover, HandoverStatus.CHECKED)
        if handover.witness_id is not None:
            raise Conflict("Handover %(number)s was already witnessed.", number=handover.number)
        if identity.id in _actors(handover):
            raise ValidationError("Someone who handed over or received a batch cannot also witness it.")
        if not policy.can(identity, "witness", handover):
            raise ValidationError("The witness must be a person of the receiving department or of the archive.")
        handover.witnessed_at, handover.witness_id = utcnow(), identity.id
        audit.record("handover.witness", actor=identity, obj=handover, number=handover.number)
        if handover.sender_confirmed_at is not None:
            _complete(identity, handover, uow)
    return handover


def confirm_sending(identity, handover_id: int) -> Handover:
    """The handing side confirms the checked list; with the witness's confirmation (when required) the batch
    is completed."""
    with unit_of_work() as uow:
        handover = _locked_for(identity, handover_id, "confirm_sending", HandoverStatus.CHECKED)
        if handover.sender_confirmed_at is not None:
            raise Conflict("The handing side already confirmed handover %(number)s.", number=handover.number)
        handover.sender_confirmed_at, handover.sender_confirmed_by_id = utcnow(), identity.id
        audit.record("handover.confirm_sending", actor=identity, obj=handover, number=handover.number)
        if not handover.witness_required or handover.witness_id is not None:
            _complete(identity, handover, uow)
    return handover


def _complete(identity, handover: Handover, uow: UnitOfWork) -> None:
    """Custody of the accepted documents passes to the receiving department; the receipt is made and filed."""
    handover.status = HandoverStatus.COMPLETED
    moved = []
    for item in handover.items:
        if item.check is not ItemCheck.ACCEPTED:
            continue
        document = item.document
        old = document.department.code
        document.department_id = handover.to_department_id
        moved.append(document.id)
        audit.record("handover.custody", actor=identity, obj=document, number=handover.number,
                     archive_number=document.archive_number, old=old, new=handover.to_department.code)
    db.session.flush()
    db.session.expire(handover)  # the people who confirmed, as the receipt names them
    _file_receipt(handover, uow)
    audit.record("handover.complete", actor=identity, obj=handover, number=handover.number,
                 accepted=len(moved), returned=len(handover.items) - len(moved), receipt_sha256=handover.receipt_sha256)
    uow.after_commit(lambda: [schedule_index(document_id) for document_id in moved])


def _file_receipt(handover: Handover, uow: UnitOfWork) -> None:
    """The receipt PDF, encrypted like every file; the blob is removed again if the transaction fails."""
    receipt = receipt_pdf(handover)
    sealed = blob_store().put(io.BytesIO(receipt.pdf))
    uow.on_rollback(lambda: blob_store().delete(sealed.blob_id))
    handover.receipt_sha256 = receipt.content_sha256
    handover.receipt_blob_id, handover.receipt_key_id = sealed.blob_id, sealed.key_id
    handover.receipt_wrapped_key = sealed.wrapped_key
    handover.receipt_plain_sha256, handover.receipt_cipher_sha256 = sealed.plain_sha256, sealed.cipher_sha256


# The receipt -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptToSend:
    filename: str
    media_type: str
    sha256: str  # the receipt's content hash, as its QR code carries it
    stream: BinaryIO  # the decrypted PDF, read lazily


def open_receipt(identity, handover_id: int) -> ReceiptToSend:
    """Audit and commit, then open the filed receipt's plaintext as a stream to send."""
    handover = get_handover(identity, handover_id)
    if handover.status is not HandoverStatus.COMPLETED or not handover.receipt_blob_id:
        raise NotFound("Not found.")
    sealed = (handover.receipt_blob_id, handover.receipt_key_id, handover.receipt_wrapped_key)
    to_send = (f"{handover.number}.pdf", RECEIPT_MEDIA_TYPE, handover.receipt_sha256)
    with unit_of_work():
        audit.record("handover.receipt_open", actor=identity, obj=handover, number=handover.number)
    return ReceiptToSend(*to_send, stream=blob_store().open(*sealed))


def verify_receipt(identity, number: str, sha256: str) -> bool:
    """Whether a printed receipt's code (its number and content hash) matches a receipt the archive filed."""
    policy.require(identity, "verify_receipt")
    number, sha256 = number.strip(), sha256.strip().lower()
    handover = db.session.scalar(sa.select(Handover).where(Handover.number == number))
    stored = handover.receipt_sha256 if handover is not None and handover.status is HandoverStatus.COMPLETED else None
    matches = stored is not None and hmac.compare_digest(stored.lower().encode(), sha256.encode())
    with unit_of_work():
        audit.record("handover.verify_receipt", actor=identity, obj=handover, number=number[:40],
                     sha256=sha256[:64], matches=matches)
    return matches


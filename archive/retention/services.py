"""Retention: the schedule, the expiry appraisal (到期鉴定), legal holds and disposal (销毁).

A disposal is proposed (archivist or archive head), approved by an archive head who did not propose it, and
confirmed by two witnesses (监销人) who are neither the proposer, nor the approver, nor each other: four people,
so that no one can destroy records with the help of a single accomplice, and the approval and the witnessing stay
separate acts. The second confirmation crypto-shreds the documents in the same transaction (shredding.py) and
files the destruction register. Every step locks the disposal row and checks its documents again.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa

from ..audit import services as audit
from ..core.enums import CATEGORY_LABELS, RETENTION_LABELS, Category, Retention
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.keys import blob_store
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import UnitOfWork, locked, unit_of_work
from ..documents.models import Document
from ..documents.numbering import next_in_sequence
from ..extensions import db
from ..handovers.transit import transit_handover
from . import rules
from .guards import disposed_refusal
from .models import (
    DISPOSAL_STATUS_LABELS, OPEN_DISPOSAL, Disposal, DisposalItem, DisposalStatus, DisposalWitness, LegalHold, RetentionSchedule,
)
from .register import register_pdf
from .shredding import shred

WITNESSES_NEEDED = 2
REGISTER_MEDIA_TYPE = "application/pdf"
KEEP_CHOICES = (10, 30)  # years a keep decision may add; or permanent


# The schedule ----------------------------------------------------------------------------------------------

def ensure_default_schedule() -> None:
    """Write the default period of every category that has no row yet; edited rows are kept."""
    with unit_of_work():
        present = set(db.session.scalars(sa.select(RetentionSchedule.category)))
        for category, retention in rules.schedule().items():
            if category not in present:
                db.session.add(RetentionSchedule(category=category, retention=retention))


def get_schedule(identity) -> dict[Category, Retention]:
    policy.require(identity, "view_retention")
    return rules.schedule()


def set_schedule(identity, category: Category, retention: Retention) -> RetentionSchedule:
    """Lengthen a category's period; a shorter one is refused (the schedule is the company's minimum)."""
    policy.require(identity, "edit_schedule")
    with unit_of_work():
        row = db.session.scalars(sa.select(RetentionSchedule).where(RetentionSchedule.category == category)
                                 .with_for_update()).first()
        current = row.retention if row else rules.minimum_retention(category)
        if rules.shorter(retention, current):
            raise ValidationError("The schedule can only be lengthened: %(category)s is kept %(current)s, so "
                                  "%(new)s is refused.", category=CATEGORY_LABELS[category],
                                  current=RETENTION_LABELS[current], new=RETENTION_LABELS[retention])
        if row is None:
            row = RetentionSchedule(category=category)
            db.session.add(row)
        if current is not retention or row.updated_by_id is None:
            row.retention, row.updated_at, row.updated_by_id = retention, utcnow(), identity.id
            audit.record("retention.schedule", actor=identity, object_type="retention_schedule",
                         object_id=category.value, old=current.value, new=retention.value)
    return row


# The expiry appraisal --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DueDocument:
    document: Document
    expiry_year: int
    holds: list[rules.Hold]
    open_disposal: Disposal | None  # the open proposal it is already on


def appraisal_list(identity, year: int | None = None, limit: int = 500) -> tuple[int, list[DueDocument]]:
    """The documents due for appraisal in `year` (default this year) or earlier, that the identity may read,
    oldest expiry first, with their holds and any open proposal."""
    policy.require(identity, "view_retention")
    year = year or rules.this_year()
    expiry = rules.expiry_year_clause().label("expiry")
    rows = db.session.execute(
        sa.select(Document, expiry).where(rules.due_clause(year), policy.where(identity, "read", Document))
        .order_by(expiry, Document.archive_number).limit(limit)
    ).all()
    ids = [doc.id for doc, _expiry in rows]
    holds = rules.holds_of(ids)
    proposals = _open_disposals_of(ids)
    return year, [DueDocument(doc, expiry_year, holds[doc.id], proposals.get(doc.id)) for doc, expiry_year in rows]


def _open_disposals_of(document_ids: list[int], excluding: int | None = None) -> dict[int, Disposal]:
    if not document_ids:
        return {}
    stmt = (sa.select(DisposalItem.document_id, Disposal).join(Disposal, Disposal.id == DisposalItem.disposal_id)
            .where(DisposalItem.document_id.in_(document_ids), Disposal.status.in_(OPEN_DISPOSAL)))
    if excluding is not None:
        stmt = stmt.where(Disposal.id != excluding)
    return dict(db.session.execute(stmt).all())


@dataclass(frozen=True)
class RetentionState:
    """What a document's page shows about its retention."""

    expiry_year: int | None  # None: permanent
    holds: list[rules.Hold]
    disposal: Disposal | None  # the completed disposal, or the open proposal it is on


def retention_state(identity, document: Document) -> RetentionState | None:
    """For the document page (whose service fetched `document`); None for those who do not oversee retention."""
    if not policy.can(identity, "view_retention"):
        return None
    disposal = (db.session.get(Disposal, document.disposal_id) if document.disposal_id
                else _open_disposals_of([document.id]).get(document.id))
    return RetentionState(rules.expiry_years([document.id])[document.id], rules.holds_of([document.id])[document.id],
                          disposal)


def keep(identity, document_ids: list[int], *, years: int | None, reason: str) -> list[Document]:
    """An appraisal's decision to keep: `years` more from this year, or permanently (years None). Never shorter."""
    policy.require(identity, "appraise")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason of the appraisal.")
    if years is not None and years not in KEEP_CHOICES:
        raise ValidationError("Keep for 10 or 30 more years, or permanently.")
    documents = _readable(identity, document_ids)
    with unit_of_work():
        expiries = rules.expiry_years([d.id for d in documents])
        for document in documents:
            refusal = disposed_refusal(document)
            if refusal is not None:
                raise refusal
            old = expiries[document.id]
            if old is None:
                raise ValidationError("%(number)s is kept permanently already.", number=document.archive_number)
            if years is None:
                document.retention, document.keep_until_year = Retention.PERMANENT, None
            else:
                until = rules.this_year() + years
                if until <= old:
                    raise ValidationError("%(number)s is kept until %(year)s already: the decision would not "
                                          "lengthen it.", number=document.archive_number, year=old)
                document.keep_until_year = until
            audit.record("retention.keep", actor=identity, obj=document, archive_number=document.archive_number,
                         old_expiry=old, new_expiry=document.keep_until_year, permanent=years is None, reason=reason)
    return documents


def _readable(identity, document_ids: list[int]) -> list[Document]:
    if not document_ids:
        raise ValidationError("Choose at least one document.")
    documents = []
    for document_id in dict.fromkeys(document_ids):
        document = db.session.get(Document, document_id)
        if document is None or not policy.can(identity, "read", document):
            raise NotFound("Not found.")
        documents.append(document)
    return documents


# Legal holds -----------------------------------------------------------------------------------------------

def place_hold(identity, archive_number: str, reason: str) -> LegalHold:
    policy.require(identity, "place_hold")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason of the hold.")
    document = db.session.scalar(sa.select(Document).where(Document.archive_number == archive_number.strip()))
    if document is None or not policy.can(identity, "read", document):
        raise NotFound("No document has the archive number %(number)s.", number=archive_number.strip())
    refusal = disposed_refusal(document)
    if refusal is not None:
        raise refusal
    with unit_of_work():
        hold = LegalHold(document_id=document.id, reason=reason[:500], placed_by_id=identity.id, placed_at=utcnow())
        db.session.add(hold)
        db.session.flush()
        audit.record("retention.hold", actor=identity, obj=document, archive_number=document.archive_number,
                     hold=hold.id, reason=hold.reason)
    return hold


def lift_hold(identity, hold_id: int, reason: str) -> LegalHold:
    policy.require(identity, "place_hold")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason for lifting the hold.")
    with unit_of_work():
        hold = locked(LegalHold, hold_id)
        if not policy.can(identity, "read", hold.document):
            raise NotFound("Not found.")
        if hold.lifted_at is not None:
            raise Conflict("This hold was lifted already.")
        hold.lifted_at, hold.lifted_by_id, hold.lift_reason = utcnow(), identity.id, reason[:500]
        audit.record("retention.hold_lifted", actor=identity, obj=hold.document,
                     archive_number=hold.document.archive_number, hold=hold.id, reason=hold.lift_reason)
    return hold


@dataclass(frozen=True)
class HeldDocuments:
    manual: list[LegalHold]  # active holds placed by archive heads
    litigation: list[tuple[Document, list[str]]]  # documents held by open litigation files, with the files


def held_documents(identity, limit: int = 500) -> HeldDocuments:
    """Every hold the identity may see: those placed by hand, and documents of open litigation files."""
    policy.require(identity, "view_retention")
    readable = policy.where(identity, "read", Document)
    manual = list(db.session.scalars(
        sa.select(LegalHold).join(Document, Document.id == LegalHold.document_id)
        .where(LegalHold.lifted_at.is_(None), readable).order_by(LegalHold.placed_at.desc()).limit(limit)))
    documents = list(db.session.scalars(
        sa.select(Document).where(rules.held_clause(), readable, Document.disposed_at.is_(None))
        .order_by(Document.archive_number).limit(limit)))
    holds = rules.holds_of([d.id for d in documents])
    litigation = [(d, [h.litigation_number for h in holds[d.id] if h.litigation_number]) for d in documents]
    return HeldDocuments(manual, [(d, files) for d, files in litigation if files])


# Disposal --------------------------------------------------------------------------------------------------

def _refusals(documents: list[Document], *, disposal_id: int | None = None) -> list[ValidationError]:
    """Why each document cannot be disposed of now, if it cannot."""
    ids = [d.id for d in documents]
    expiries, holds = rules.expiry_years(ids), rules.holds_of(ids)
    others = _open_disposals_of(ids, excluding=disposal_id)
    this_year, problems = rules.this_year(), []
    for document in documents:
        number, expiry = document.archive_number, expiries[document.id]
        disposed = disposed_refusal(document)
        if disposed is not None:
            problems.append(ValidationError("%(number)s was disposed of already.", number=number))
        elif holds[document.id]:
            problems.append(rules.hold_refusal(document, holds[document.id]))
        elif expiry is None:
            problems.append(ValidationError("%(number)s is kept permanently and is never disposed of.", number=number))
        elif expiry >= this_year:
            problems.append(ValidationError("%(number)s is kept until the end of %(year)s: it has not expired yet.",
                                            number=number, year=expiry))
        elif document.id in others:
            problems.append(ValidationError("%(number)s is already in disposal proposal %(other)s.", number=number,
                                            other=others[document.id].number))
        elif (handover := transit_handover(document.id)) is not None:
            problems.append(ValidationError("%(number)s is in transit in handover %(other)s.", number=number,
                                            other=handover.number))
    return problems


def _raise_refusals(problems: list[ValidationError]) -> None:
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ValidationError("%(count)s documents cannot be disposed of:", count=len(problems), problems=problems)


def _lock_documents(document_ids: list[int]) -> None:
    """Serialises two proposals (or a proposal and a hold) taking the same document at the same moment."""
    db.session.execute(sa.select(Document.id).where(Document.id.in_(document_ids)).with_for_update())


def _remarks(document: Document) -> str:
    """备考: what the person destroying the paper needs, its carrier and where it is."""
    kind = "原件" if document.is_original else "复印件"
    carrier = "纸质" if document.carrier.value == "paper" else "电子"
    return f"{carrier}{kind}" + (f"，{document.location}" if document.location else "")


def propose_disposal(identity, document_ids: list[int], reason: str) -> Disposal:
    """A proposal listing expired documents, none held, none on another open proposal."""
    policy.require(identity, "propose_disposal")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason for the disposal (销毁原因).")
    documents = _readable(identity, document_ids)
    with unit_of_work():
        _lock_documents([d.id for d in documents])
        _raise_refusals(_refusals(documents))
        year = rules.this_year()
        disposal = Disposal(number=f"XH-{year}-{next_in_sequence(f'disposal:{year}'):04d}", reason=reason[:500],
                            proposed_by_id=identity.id, proposed_at=utcnow())
        disposal.items = [DisposalItem(document_id=d.id, remarks=_remarks(d)[:300]) for d in documents]
        db.session.add(disposal)
        db.session.flush()
        audit.record("disposal.propose", actor=identity, obj=disposal, number=disposal.number, reason=disposal.reason,
                     documents=[d.archive_number for d in documents])
    return disposal


def _locked_for(identity, disposal_id: int, action: str, *allowed: DisposalStatus) -> Disposal:
    disposal = locked(Disposal, disposal_id)
    policy.require(identity, "read", disposal)
    policy.require(identity, action, disposal)
    if disposal.status not in allowed:
        raise Conflict("Disposal %(number)s is %(status)s: this step is not possible now.", number=disposal.number,
                       status=DISPOSAL_STATUS_LABELS[disposal.status])
    return disposal


def approve_disposal(identity, disposal_id: int) -> Disposal:
    with unit_of_work():
        disposal = _locked_for(identity, disposal_id, "approve", DisposalStatus.PROPOSED)
        if disposal.proposed_by_id == identity.id:
            raise ValidationError("You proposed this disposal: another archive head must approve it.")
        _raise_refusals(_refusals([item.document for item in disposal.items], disposal_id=disposal.id))
        disposal.status, disposal.approved_by_id, disposal.approved_at = DisposalStatus.APPROVED, identity.id, utcnow()
        audit.record("disposal.approve", actor=identity, obj=disposal, number=disposal.number)
    return disposal


def confirm_witness(identity, disposal_id: int) -> Disposal:
    """A witness confirms; the second confirmation destroys the content and files the register."""
    with unit_of_work() as uow:
        disposal = _locked_for(identity, disposal_id, "witness", DisposalStatus.APPROVED)
        if identity.id == disposal.proposed_by_id:
            raise ValidationError("You proposed this disposal and cannot witness it.")
        if identity.id == disposal.approved_by_id:
            raise ValidationError("You approved this disposal and cannot witness it.")
        if any(w.user_id == identity.id for w in disposal.witnesses):
            raise ValidationError("You have confirmed as a witness already: a second, different witness is needed.")
        documents = [item.document for item in disposal.items]
        _raise_refusals(_refusals(documents, disposal_id=disposal.id))
        now = utcnow()
        db.session.add(DisposalWitness(disposal_id=disposal.id, user_id=identity.id, confirmed_at=now))
        db.session.flush()
        db.session.expire(disposal, ["witnesses"])
        audit.record("disposal.witness", actor=identity, obj=disposal, number=disposal.number)
        if len(disposal.witnesses) >= WITNESSES_NEEDED:
            _complete(uow, identity, disposal, documents, now)
    return disposal


def _complete(uow: UnitOfWork, identity, disposal: Disposal, documents: list[Document], now) -> None:
    shredded = shred(uow, disposal, documents, now)
    disposal.status, disposal.completed_at = DisposalStatus.COMPLETED, now
    sealed = blob_store().put(io.BytesIO(register_pdf(disposal)))
    uow.on_rollback(lambda: blob_store().delete(sealed.blob_id))
    disposal.register_blob_id, disposal.register_key_id = sealed.blob_id, sealed.key_id
    disposal.register_wrapped_key = sealed.wrapped_key
    disposal.register_plain_sha256, disposal.register_cipher_sha256 = sealed.plain_sha256, sealed.cipher_sha256
    for document in documents:
        audit.record("document.dispose", actor=identity, obj=document, archive_number=document.archive_number,
                     disposal=disposal.number)
    audit.record("disposal.complete", actor=identity, obj=disposal, number=disposal.number,
                 documents=len(documents), blobs_shredded=shredded, register_sha256=sealed.plain_sha256)


def cancel_disposal(identity, disposal_id: int, reason: str) -> Disposal:
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give the reason for cancelling.")
    with unit_of_work():
        disposal = _locked_for(identity, disposal_id, "cancel", DisposalStatus.PROPOSED, DisposalStatus.APPROVED)
        if disposal.proposed_by_id != identity.id and not policy.can(identity, "approve", disposal):
            raise ValidationError("Only the proposer or an archive head may cancel a disposal.")
        disposal.status, disposal.cancelled_by_id, disposal.cancelled_at = DisposalStatus.CANCELLED, identity.id, utcnow()
        disposal.cancel_reason = reason[:500]
        audit.record("disposal.cancel", actor=identity, obj=disposal, number=disposal.number, reason=reason)
    return disposal


def list_disposals(identity) -> list[Disposal]:
    policy.require(identity, "view_retention")
    return list(db.session.scalars(
        sa.select(Disposal).where(policy.where(identity, "read", Disposal)).order_by(Disposal.id.desc())))


def waiting_for(identity) -> list[Disposal]:
    """Open disposals waiting for the identity's approval or witness, oldest first."""
    if not policy.can(identity, "view_retention"):
        return []
    open_ones = db.session.scalars(
        sa.select(Disposal).where(Disposal.status.in_(OPEN_DISPOSAL), policy.where(identity, "read", Disposal))
        .order_by(Disposal.id))
    return [disposal for disposal in open_ones if actions(identity, disposal) & {"approve", "witness"}]


def get_disposal(identity, disposal_id: int) -> Disposal:
    return policy.fetch(identity, "read", Disposal, disposal_id)


def actions(identity, disposal: Disposal) -> set[str]:
    """The steps the disposal page may offer; each service checks again when asked."""
    allowed = set()
    involved = {disposal.proposed_by_id, disposal.approved_by_id, *(w.user_id for w in disposal.witnesses)}
    if disposal.status is DisposalStatus.PROPOSED and policy.can(identity, "approve", disposal) \
            and identity.id != disposal.proposed_by_id:
        allowed.add("approve")
    if disposal.status is DisposalStatus.APPROVED and policy.can(identity, "witness", disposal) \
            and identity.id not in involved:
        allowed.add("witness")
    if disposal.status in OPEN_DISPOSAL and policy.can(identity, "cancel", disposal) \
            and (identity.id == disposal.proposed_by_id or policy.can(identity, "approve", disposal)):
        allowed.add("cancel")
    if disposal.status is DisposalStatus.COMPLETED and disposal.register_blob_id \
            and policy.can(identity, "open_register", disposal):
        allowed.add("open_register")
    return allowed


@dataclass(frozen=True)
class RegisterToSend:
    filename: str
    media_type: str
    sha256: str
    stream: BinaryIO


def open_register(identity, disposal_id: int) -> RegisterToSend:
    """Audit and commit, then open the filed destruction register as a stream to send."""
    disposal = policy.fetch(identity, "open_register", Disposal, disposal_id)
    if disposal.register_blob_id is None:
        raise NotFound("Not found.")
    sealed = (disposal.register_blob_id, disposal.register_key_id, disposal.register_wrapped_key)
    described = (f"{disposal.number}.pdf", REGISTER_MEDIA_TYPE, disposal.register_plain_sha256)
    with unit_of_work():
        audit.record("disposal.register_open", actor=identity, obj=disposal, number=disposal.number)
    return RegisterToSend(*described, stream=blob_store().open(*sealed))


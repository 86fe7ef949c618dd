"""Documents in transit: sent in a handover that is not yet completed. Their department can no longer change them."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.errors import ValidationError
from ..extensions import db
from .models import Handover, HandoverItem, HandoverStatus

IN_TRANSIT = (HandoverStatus.SENT, HandoverStatus.CHECKED)


def transit_handover(document_id: int) -> Handover | None:
    """The handover the document travels in now, if any."""
    return db.session.scalars(
        sa.select(Handover).join(HandoverItem, HandoverItem.handover_id == Handover.id)
        .where(HandoverItem.document_id == document_id, Handover.status.in_(IN_TRANSIT))
        .limit(1)
    ).first()


def ensure_not_in_transit(document_id: int) -> None:
    handover = transit_handover(document_id)
    if handover is not None:
        raise ValidationError("This document is in transit in handover %(number)s and cannot be changed.",
                              number=handover.number)

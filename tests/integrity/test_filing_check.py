"""The four-property check at filing: run by the worker beside the text extraction, once per version."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from huey.exceptions import RetryTask

from archive.core.enums import Level, Role
from archive.documents import services as documents
from archive.extensions import db
from archive.integrity import services
from archive.integrity.models import CheckContext, IntegrityAlert, IntegrityCheck
from archive.notifications.models import Notification
from archive.search.tasks import run_extraction
from tests.conftest import make_app, running
from tests.factories import Factory, flip_a_byte, make_pdf


def filing_checks(version_id: int) -> list[IntegrityCheck]:
    return list(db.session.scalars(sa.select(IntegrityCheck).where(
        IntegrityCheck.file_version_id == version_id, IntegrityCheck.context == CheckContext.FILING)))


def test_each_filed_file_and_each_new_version_is_checked_once(app, factory):
    """QUEUE_IMMEDIATE (this package's app): the worker's task runs as the filing commits."""
    document = factory.document(factory.dossier(), title="认购书 张伟")
    first = document.current_version
    (check,) = filing_checks(first.id)
    assert check.ok and set(check.results) == {"authenticity", "integrity", "usability", "security"}

    second = documents.add_version(factory.archivist, document.id,
                                   documents.Upload("更正.pdf", io.BytesIO(make_pdf("认购书 更正"))), "更正扫描件")
    assert [c.ok for c in filing_checks(second.id)] == [True]
    assert services.check_at_filing(second.id) is None  # a retried task checks nothing twice
    assert len(filing_checks(second.id)) == 1


@pytest.fixture
def queued_app(database_url, tmp_path):
    """Tasks queued, not run: the test decides when the worker gets to the file."""
    with running(make_app(database_url, tmp_path / "storage")) as app:
        yield app


def test_a_file_damaged_before_its_check_raises_an_alert_for_the_archive_heads(queued_app):
    factory = Factory(queued_app)
    head = factory.user("head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    document = factory.document(factory.dossier(), title="买卖合同 李娜")
    version = document.current_version
    flip_a_byte(version.blob_id)

    with pytest.raises(RetryTask):  # the text cannot be read either: the queue will try again
        run_extraction(version.id)

    (check,) = filing_checks(version.id)
    assert not check.ok and not check.results["authenticity"]["ok"]
    (alert,) = services.open_alerts()
    assert alert.document_id == document.id and alert.problem == services.FILING_CHECK_FAILED
    assert "authenticity" in alert.detail and document.archive_number in alert.subject
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.user_id == head.id)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntegrityAlert)) == 1

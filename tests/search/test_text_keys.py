"""The stored text under key rotation and fixity checks: sealed like the files, verified like them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from archive.core.keys import blob_store, key_file, keyring, reset_cached_keys
from archive.extensions import db
from archive.search import textstore
from archive.search.models import ExtractedText
from archive.storage import Keyring
from tests.conftest import keyfile_instance
from tests.factories import flip_a_byte, make_pdf


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    """Tasks run at once, and the master key is a file that can be rotated."""
    with keyfile_instance(database_url, tmp_path, monkeypatch, QUEUE_IMMEDIATE=True) as app:
        yield app


def test_text_keys_are_resealed_so_the_old_master_key_can_be_retired(app, factory):
    doc = factory.document(factory.dossier(), content=make_pdf("维修工单 WX-2024-0032", "卫生间天花板渗水"))
    old_key = keyring().current_key_id
    Keyring.rotate_file(key_file(app))
    reset_cached_keys(app)
    new_key = keyring().current_key_id
    assert textstore.sealed_with(old_key) == 1

    assert textstore.reseal(new_key) == 1

    assert textstore.sealed_with(old_key) == 0 and textstore.sealed_with(new_key) == 1
    keyring().retire(old_key)
    reset_cached_keys(app)
    assert "WX-2024-0032" in textstore.document_pages(doc)[0]


def test_text_blobs_are_referenced_and_checked(app, factory):
    doc = factory.document(factory.dossier(), content=make_pdf("入伙通知书", "3栋2单元1502"))
    blob_id = db.session.scalar(sa.select(ExtractedText.blob_id).where(ExtractedText.document_id == doc.id))

    referenced, problems = textstore.verify_blobs(decrypt=True)
    assert referenced == {blob_id} and problems == []

    flip_a_byte(blob_id, offset=-1)
    referenced, problems = textstore.verify_blobs(decrypt=False)
    assert len(problems) == 1 and f"text of document {doc.id}" in problems[0] and "checksum mismatch" in problems[0]

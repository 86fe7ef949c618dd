"""`archive verify` re-hashes every stored blob and names the ones that changed."""
import sqlalchemy as sa

from archive.core.keys import blob_store
from archive.documents.models import FileVersion
from archive.extensions import db
from tests.factories import make_pdf


def _versions() -> list[FileVersion]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(FileVersion).order_by(FileVersion.id)))


def _flip_one_byte(version: FileVersion) -> None:
    path = blob_store().backend.path_for(version.blob_id)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_exits_0_when_every_blob_is_intact(runner, factory):
    dossier = factory.dossier()
    factory.document(dossier, title="认购书")
    factory.document(dossier, title="房地产买卖合同", content=make_pdf("房地产买卖合同", pages=3))

    result = runner.invoke(args=["verify", "--decrypt"])

    assert result.exit_code == 0, result.output
    assert "blobs: 2 checked, 0 failed" in result.output
    assert [v.last_fixity_ok for v in _versions()] == [True, True]


def test_verify_names_the_blob_with_a_flipped_byte(runner, factory):
    dossier = factory.dossier()
    intact = factory.document(dossier, title="认购书")
    damaged = factory.document(dossier, title="房地产买卖合同")
    (damaged_version,) = damaged.versions
    _flip_one_byte(damaged_version)

    result = runner.invoke(args=["verify"])

    assert result.exit_code == 1
    assert f"blob {damaged_version.blob_id}: ciphertext checksum mismatch" in result.output
    assert f"document {damaged.id} version 1" in result.output
    assert intact.versions[0].blob_id not in result.output
    assert "blobs: 2 checked, 1 failed" in result.output
    assert {v.blob_id: v.last_fixity_ok for v in _versions()} == {
        intact.versions[0].blob_id: True, damaged_version.blob_id: False,
    }


def test_verify_names_a_missing_blob(runner, factory):
    document = factory.document(factory.dossier())
    (version,) = document.versions
    blob_store().backend.path_for(version.blob_id).unlink()

    result = runner.invoke(args=["verify", "--decrypt"])

    assert result.exit_code == 1
    assert f"blob {version.blob_id}: missing" in result.output

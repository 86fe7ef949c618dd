"""Master key rotation and retirement with a key file: data keys are re-sealed, content is never rewritten."""
import base64
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive import create_app
from archive.core.keys import blob_store, key_file, keyring, reset_cached_keys
from archive.documents.models import FileVersion
from archive.extensions import db
from archive.storage import Keyring
from archive.units import services as units
from archive.units.models import Customer
from tests.conftest import TEST_MASTER_KEY, _config, keyfile_instance
from tests.factories import make_pdf

ID_NUMBER = "44030519850101123X"


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    with keyfile_instance(database_url, tmp_path, monkeypatch) as app:
        yield app


@pytest.fixture
def archive_with_files(factory):
    """Two documents and a customer with a sealed ID number and phone; returns each document's content."""
    dossier = factory.dossier()
    contents = {"认购书": make_pdf("认购书"), "房地产买卖合同": make_pdf("房地产买卖合同", pages=2)}
    documents = {title: factory.document(dossier, title=title, content=content) for title, content in contents.items()}
    units.register_customer(factory.archivist, "李明", id_number=ID_NUMBER, phone="138 0013 8000")
    return {documents[title].archive_number: content for title, content in contents.items()}


def _versions() -> list[FileVersion]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(FileVersion).order_by(FileVersion.id)))


def _stored_state() -> dict[str, tuple[bytes, str]]:
    """Each blob's file bytes and recorded ciphertext checksum."""
    backend = blob_store().backend
    return {v.blob_id: (backend.path_for(v.blob_id).read_bytes(), v.cipher_sha256) for v in _versions()}


def _export(runner, tmp_path: Path, archive_number: str, username: str) -> bytes:
    output = tmp_path / f"{archive_number}.pdf"
    result = runner.invoke(args=["documents", "get", archive_number, "--as", username, "-o", str(output)])
    assert result.exit_code == 0, result.output
    return output.read_bytes()


def _key_ids(app) -> tuple[str, list[str]]:
    document = json.loads(key_file(app).read_text())
    return document["current"], sorted(document["keys"])


def test_rotate_reseals_every_data_key_without_touching_any_blob(app, runner, factory, archive_with_files, tmp_path):
    old_key, _ = _key_ids(app)
    before = _stored_state()
    wrapped_before = {v.blob_id: v.wrapped_key for v in _versions()}
    reader = factory.archivist.username

    result = runner.invoke(args=["keys", "rotate"])

    assert result.exit_code == 0, result.output
    new_key, all_keys = _key_ids(app)
    assert new_key != old_key and all_keys == sorted([old_key, new_key])
    assert f"New master key {new_key}" in result.output
    versions = _versions()
    assert {v.key_id for v in versions} == {new_key}
    assert all(v.wrapped_key != wrapped_before[v.blob_id] for v in versions)
    assert _stored_state() == before  # not one byte of content rewritten
    for archive_number, content in archive_with_files.items():
        assert _export(runner, tmp_path, archive_number, reader) == content
    customer = db.session.scalar(sa.select(Customer))
    assert f".{new_key}." in customer.id_number_sealed and f".{new_key}." in customer.phone_sealed
    assert units.find_customer_by_id_number(factory.archivist, ID_NUMBER).id == customer.id
    assert oct(key_file(app).stat().st_mode & 0o777) == "0o600"


def test_retire_refuses_the_current_key_and_a_key_still_in_use(app, runner, archive_with_files):
    old_key, _ = _key_ids(app)

    current = runner.invoke(args=["keys", "retire", old_key])

    assert current.exit_code == 1
    assert f"{old_key} is the current key; rotate first." in current.output
    # A rotation interrupted before re-sealing: the new key is current, the old one still seals everything.
    Keyring.rotate_file(key_file(app))
    reset_cached_keys(app)

    in_use = runner.invoke(args=["keys", "retire", old_key])

    assert in_use.exit_code == 1
    assert f"{old_key} still seals" in in_use.output and "run `archive keys rotate`" in in_use.output
    assert old_key in _key_ids(app)[1]


def test_retire_after_rotation_removes_the_old_key_and_documents_still_open(
    app, runner, factory, archive_with_files, tmp_path
):
    old_key, _ = _key_ids(app)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0

    result = runner.invoke(args=["keys", "retire", old_key])

    assert result.exit_code == 0, result.output
    new_key, all_keys = _key_ids(app)
    assert all_keys == [new_key]
    assert old_key in json.loads(key_file(app).read_text())["retired"]
    reset_cached_keys(app)
    assert old_key not in keyring()
    for archive_number, content in archive_with_files.items():
        assert _export(runner, tmp_path, archive_number, factory.archivist.username) == content
    assert units.find_customer_by_id_number(factory.archivist, ID_NUMBER) is not None
    listing = runner.invoke(args=["keys", "list"])
    assert f"{new_key} current seals 4 data keys / values" in listing.output  # 2 files, ID number, phone
    assert runner.invoke(args=["verify", "--decrypt"]).exit_code == 0


def test_master_key_appears_nowhere_in_the_database_or_the_storage(app, runner, archive_with_files):
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    keys = [base64.b64decode(encoded) for encoded in json.loads(key_file(app).read_text())["keys"].values()]
    needles = [form for key in keys for form in (key, base64.b64encode(key), base64.urlsafe_b64encode(key),
                                                  key.hex().encode())]

    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            for value in row:
                if isinstance(value, (str, bytes)):
                    raw = value.encode() if isinstance(value, str) else value
                    assert not any(needle in raw for needle in needles), f"a master key is in {table.name}"
    stored_files = [p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()]
    assert len([p for p in stored_files if "blobs" in p.parts]) >= len(archive_with_files)
    for path in stored_files:
        content = path.read_bytes()
        assert not any(needle in content for needle in needles), f"a master key is in {path}"


def test_rotate_with_the_key_in_the_environment_explains_what_to_do(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("ARCHIVE_MASTER_KEY", TEST_MASTER_KEY)
    config = {k: v for k, v in _config(database_url, tmp_path / "storage").items() if k != "MASTER_KEY"}
    env_app = create_app(config)
    with env_app.app_context():
        result = env_app.test_cli_runner().invoke(args=["keys", "rotate"])
        db.engine.dispose()

    assert result.exit_code == 1
    assert "ARCHIVE_MASTER_KEY" in result.output and "put a new key first in that list" in result.output
    assert not (tmp_path / "instance" / "master.keys").exists()


def test_rotation_and_retirement_cover_consultation_letters_and_officer_ids(app, runner, factory, archive_with_files):
    from datetime import date
    from io import BytesIO

    from archive.documents.services import Upload
    from archive.loans import services as loans
    from archive.loans.models import Consultation
    from archive.loans.sealed import OFFICER_IDS_CONTEXT

    letter = make_pdf("深圳市南山区人民法院", "协助调查函")
    loans.register_consultation(
        factory.archivist, agency_kind="court", agency_name="深圳市南山区人民法院", letter_reference="（2026）粤0305民初1号",
        officer_names="李法官", officer_ids="440305198001011234", purpose="调查取证", consulted_on=date(2026, 9, 28),
        archive_numbers=list(archive_with_files), letter=Upload("函.pdf", BytesIO(letter)),
    )
    old_key, _ = _key_ids(app)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    result = runner.invoke(args=["keys", "retire", old_key])
    assert result.exit_code == 0, result.output

    reset_cached_keys(app)
    db.session.expire_all()
    consultation = db.session.scalars(sa.select(Consultation)).one()
    assert consultation.letter_key_id != old_key
    with blob_store().open(consultation.letter_blob_id, consultation.letter_key_id,
                           consultation.letter_wrapped_key) as plain:
        assert plain.read() == letter
    assert keyring().open_value(consultation.officer_ids_sealed, OFFICER_IDS_CONTEXT) == "440305198001011234"
    verified = runner.invoke(args=["verify", "--decrypt"])
    assert verified.exit_code == 0, verified.output
    assert "0 failed, 0 orphaned" in verified.output  # the letter is checked, and known

"""`archive keys export|import`: the keyring sealed under a passphrase, for a new machine."""
from __future__ import annotations

import base64
import stat

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.keys import KEY_CHECK, KEY_CHECK_PLAINTEXT, keyring
from archive.core.models import Setting
from archive.extensions import db
from archive.storage import Keyring
from tests.conftest import TEST_MASTER_KEY, make_app

PASSPHRASE = "柜子钥匙在总经理办公室 correct horse"


def _new_machine(tmp_path):
    """An instance with no key configured yet, its instance folder in tmp_path."""
    new = make_app(f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "new-storage", MASTER_KEY=None)
    new.instance_path = str(tmp_path / "instance")
    return new


def test_export_then_import_on_a_new_machine_gives_the_same_keys_and_a_wrong_passphrase_none(app, tmp_path):
    sealed = tmp_path / "keys.sealed"
    exported = app.test_cli_runner().invoke(args=["keys", "export", str(sealed)], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")

    assert exported.exit_code == 0, exported.output
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    key = base64.b64decode(TEST_MASTER_KEY)
    content = sealed.read_bytes()
    assert key not in content and TEST_MASTER_KEY.encode() not in content and base64.urlsafe_b64encode(key) not in content
    assert db.session.scalar(sa.select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)) == "keys.export"
    source_ids, check_value = keyring().key_ids, db.session.get(Setting, KEY_CHECK).value

    phrase_file = tmp_path / "phrase"
    phrase_file.write_text(PASSPHRASE + "!\n")
    new = _new_machine(tmp_path)
    with new.app_context():
        wrong = new.test_cli_runner().invoke(args=["keys", "import", str(sealed), "--passphrase-file", str(phrase_file)])
    assert wrong.exit_code == 1 and "Wrong passphrase" in wrong.output
    assert not (tmp_path / "instance").exists()

    phrase_file.write_text(PASSPHRASE + "\n")
    with new.app_context():
        imported = new.test_cli_runner().invoke(args=["keys", "import", str(sealed), "--passphrase-file", str(phrase_file)])
    assert imported.exit_code == 0, imported.output
    key_file = tmp_path / "instance" / "master.keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    ring = Keyring.from_file(key_file)
    assert ring.key_ids == source_ids
    assert ring.open_value(check_value, KEY_CHECK) == KEY_CHECK_PLAINTEXT

    with new.app_context():
        again = new.test_cli_runner().invoke(args=["keys", "import", str(sealed), "--passphrase-file", str(phrase_file)])
    assert again.exit_code == 1 and "never replaces a key file" in again.output


def test_export_refuses_a_short_passphrase_and_an_existing_file(app, tmp_path):
    phrase_file = tmp_path / "phrase"
    phrase_file.write_text("short")
    target = tmp_path / "keys.sealed"
    short = app.test_cli_runner().invoke(args=["keys", "export", str(target), "--passphrase-file", str(phrase_file)])
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    assert not target.exists()

    target.write_text("something else")
    phrase_file.write_text(PASSPHRASE)
    existing = app.test_cli_runner().invoke(args=["keys", "export", str(target), "--passphrase-file", str(phrase_file)])
    assert existing.exit_code == 1 and "already exists" in existing.output
    assert target.read_text() == "something else"

"""`archive init` sets up an instance once and keeps it afterwards; start-up refuses a missing or wrong key."""
import base64
import os
import re
import stat

import pytest
import sqlalchemy as sa
import waitress

from archive import create_app
from archive.auth.models import Department, User
from archive.core.keys import MasterKeyError, key_file
from archive.extensions import db
from archive.setup import startup_checks
from tests.auth.conftest import browser
from tests.conftest import POSTGRES_URL, BrowserLikeClient, _config


@pytest.fixture(autouse=True)
def never_serve(monkeypatch):
    """`serve` must stop before the server starts; should it not, fail instead of serving forever."""
    def refuse(*args, **kwargs):
        raise AssertionError("waitress was started although start-up checks should have failed")

    monkeypatch.setattr(waitress, "serve", refuse)


@pytest.fixture
def make_instance(tmp_path, monkeypatch):
    """Build an app for an instance folder of its own, over a database, with or without ARCHIVE_MASTER_KEY."""
    apps = []

    def make(database_url: str, master_key: str | None = None, name: str = "instance"):
        monkeypatch.setenv("ARCHIVE_INSTANCE_PATH", str(tmp_path / name))
        config = {**_config(database_url, tmp_path / f"{name}-storage"), "MASTER_KEY": master_key}
        config.pop("SECRET_KEY")  # the instance makes its own, like a real one
        instance = create_app(config)
        instance.test_client_class = BrowserLikeClient
        apps.append(instance)
        return instance

    yield make
    for instance in apps:
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def fresh_database_url(request, tmp_path) -> str:
    """An empty SQLite file, or on PostgreSQL the test database emptied (its schema stays)."""
    if POSTGRES_URL:
        return request.getfixturevalue("database_url")
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def _invoke(instance, *args):
    with instance.app_context():
        return instance.test_cli_runner().invoke(args=list(args))


def test_init_creates_the_key_and_first_logins_and_a_second_run_keeps_everything(make_instance, fresh_database_url):
    instance = make_instance(fresh_database_url)

    first = _invoke(instance, "init")

    assert first.exit_code == 0, first.output
    path = key_file(instance)
    assert f"Created the master key {path} (mode 0600)" in first.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "First log-ins (shown once" in first.output
    admin_password = re.search(r"administrator\s+login: admin\s+password: (\S+)", first.output).group(1)
    archivist_password = re.search(r"archivist\s+login: archivist\s+password: (\S+)", first.output).group(1)
    key_bytes = path.read_bytes()
    assert _invoke(instance, "department", "create", "PROP", "物业管理部").exit_code == 0

    second = _invoke(instance, "init")

    assert second.exit_code == 0, second.output
    assert "Existing users kept." in second.output and "password" not in second.output
    assert "Created the master key" not in second.output
    assert path.read_bytes() == key_bytes
    with instance.app_context():
        assert sorted(db.session.scalars(sa.select(User.username))) == ["admin", "archivist"]
        assert db.session.scalar(sa.select(Department.name).where(Department.code == "PROP")) == "物业管理部"
        client = browser(instance)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True))
        login = client.post("/login", data={"username": "admin", "password": admin_password,
                                            "csrf_token": token.group(1)})
        assert login.status_code == 302
        assert client.get("/admin/users").status_code == 200
    assert archivist_password != admin_password
    assert _invoke(instance, "verify").exit_code == 0


def test_init_refuses_to_make_a_new_key_for_an_existing_archive(make_instance, fresh_database_url):
    instance = make_instance(fresh_database_url)
    assert _invoke(instance, "init").exit_code == 0
    key_file(instance).unlink()

    again = _invoke(instance, "init")

    assert again.exit_code != 0
    assert "holds an archive but" in str(again.exception) + again.output
    assert not key_file(instance).exists()


def test_startup_stops_when_the_key_file_is_missing(app, make_instance, database_url):
    instance = make_instance(database_url)

    with instance.app_context(), pytest.raises(MasterKeyError, match="No master key: .* does not exist"):
        startup_checks(instance)
    served = _invoke(instance, "serve")

    assert served.exit_code == 1
    assert "No master key" in served.output and "archive init" in served.output


def test_startup_stops_with_the_wrong_key(app, make_instance, database_url):
    other_key = base64.b64encode(os.urandom(32)).decode()
    instance = make_instance(database_url, master_key=other_key)

    with instance.app_context(), pytest.raises(MasterKeyError, match="does not fit this archive"):
        startup_checks(instance)
    served = _invoke(instance, "serve")

    assert served.exit_code == 1
    assert "The master key does not fit this archive's data" in served.output
    assert other_key not in served.output


def test_startup_stops_with_a_key_file_others_can_read(app, make_instance, database_url):
    from archive.storage import Keyring

    instance = make_instance(database_url)
    Keyring.create_file(key_file(instance))
    key_file(instance).chmod(0o644)

    served = _invoke(instance, "serve")

    assert served.exit_code == 1
    assert "chmod 600" in served.output
    assert "Traceback" not in served.output


def test_startup_stops_with_a_malformed_key_in_the_environment(app, make_instance, database_url):
    instance = make_instance(database_url, master_key="not-a-key")

    served = _invoke(instance, "serve")

    assert served.exit_code == 1
    assert "ARCHIVE_MASTER_KEY entry 1 is not a base64-encoded 32-byte key" in served.output

"""Keyring: key files, environment keys, rotation, retirement, field-level sealing."""
from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from archive.storage import (
    InsecureKeyFile,
    KeyFileMissing,
    Keyring,
    KeyringError,
    MalformedKey,
    UnknownKeyId,
    WrongKey,
    key_id_for,
)

CONTEXT = "customer.id_number"


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "instance" / "master.keys"
    Keyring.create_file(path)
    return path


def test_created_key_file_is_private_and_loads(key_file):
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keyring = Keyring.from_file(key_file)
    document = json.loads(key_file.read_text())
    assert keyring.current_key_id == document["current"]
    assert list(document["keys"]) == [keyring.current_key_id]
    assert keyring.current_key_id.startswith("mk-") and len(keyring.current_key_id) == 15
    assert [p.name for p in key_file.parent.iterdir()] == ["master.keys"]  # no temp file left


def test_create_file_never_overwrites(key_file):
    before = key_file.read_bytes()
    with pytest.raises(KeyringError, match="already exists"):
        Keyring.create_file(key_file)
    assert key_file.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(key_file, mode):
    key_file.chmod(mode)
    with pytest.raises(InsecureKeyFile, match="chmod 600"):
        Keyring.from_file(key_file)


def test_missing_and_malformed_key_files(tmp_path, key_file):
    with pytest.raises(KeyFileMissing, match="does not exist"):
        Keyring.from_file(tmp_path / "absent.keys")
    for content in ("not json", "[]", '{"current": "mk-000000000000"}', '{"current": 1, "keys": {}}'):
        key_file.write_text(content)
        with pytest.raises(MalformedKey):
            Keyring.from_file(key_file)
    other = os.urandom(32)
    key_file.write_text(json.dumps({"current": "mk-000000000000", "keys": {"mk-000000000000": b64(other)}}))
    with pytest.raises(MalformedKey, match="does not match"):
        Keyring.from_file(key_file)
    key_file.write_text(json.dumps({"current": "mk-0", "keys": {"mk-0": "c2hvcnQ="}}))
    with pytest.raises(MalformedKey, match="32-byte"):
        Keyring.from_file(key_file)


def test_env_value_first_key_is_current_and_others_stay_readable():
    old, new = os.urandom(32), os.urandom(32)
    sealed_with_old = Keyring.from_env_value(b64(old)).seal_value("13800138000", "customer.phone")
    keyring = Keyring.from_env_value(f" {b64(new)} ,{b64(old)}")
    assert keyring.current_key_id == key_id_for(new)
    assert keyring.key_ids == (key_id_for(new), key_id_for(old))
    assert keyring.open_value(sealed_with_old, "customer.phone") == "13800138000"
    urlsafe = base64.urlsafe_b64encode(new).decode()
    assert Keyring.from_env_value(urlsafe).current_key_id == key_id_for(new)


@pytest.mark.parametrize("value", ["", " , ", "not base64!", b64(b"short"), b64(b"k" * 33)])
def test_malformed_env_values(value):
    with pytest.raises(MalformedKey) as raised:
        Keyring.from_env_value(value)
    assert "ARCHIVE_MASTER_KEY" in str(raised.value)
    if value.strip(" ,"):
        assert value.strip() not in str(raised.value)


def test_rotate_then_retire_in_file(key_file):
    original = Keyring.from_file(key_file)
    token = original.seal_value("张三", CONTEXT)
    rotated = Keyring.rotate_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert rotated.current_key_id != original.current_key_id
    assert rotated.key_ids == (rotated.current_key_id, original.current_key_id)
    assert Keyring.from_file(key_file).key_ids == rotated.key_ids
    assert rotated.open_value(token, CONTEXT) == "张三"

    with pytest.raises(KeyringError, match="current key"):
        rotated.retire(rotated.current_key_id)
    resealed = rotated.reseal_value(token, CONTEXT)
    rotated.retire(original.current_key_id)
    reloaded = Keyring.from_file(key_file)
    assert reloaded.key_ids == (rotated.current_key_id,)
    assert reloaded.retired_key_ids == (original.current_key_id,)
    assert reloaded.open_value(resealed, CONTEXT) == "张三"
    with pytest.raises(UnknownKeyId, match=rf"sealed with key {original.current_key_id} which is not in the keyring"):
        reloaded.open_value(token, CONTEXT)


def test_unwrap_errors_name_the_problem_without_key_material():
    material = os.urandom(32)
    keyring = Keyring([material])
    key_id, wrapped = keyring.wrap_data_key(b"d" * 32, b"blob A")
    assert keyring.unwrap_data_key(key_id, wrapped, b"blob A") == b"d" * 32
    with pytest.raises(WrongKey, match="master key is wrong"):
        keyring.unwrap_data_key(key_id, wrapped, b"blob B")
    tampered = bytearray(wrapped)
    tampered[-1] ^= 1
    with pytest.raises(WrongKey, match="master key is wrong"):
        keyring.unwrap_data_key(key_id, bytes(tampered), b"blob A")
    with pytest.raises(UnknownKeyId, match="blob sealed with key mk-000000000000 which is not in the keyring"):
        keyring.unwrap_data_key("mk-000000000000", wrapped, b"blob A")
    for text in (repr(keyring), str(keyring.key_ids)):
        assert b64(material) not in text and material.hex() not in text


def test_field_sealing_round_trip_with_chinese_text():
    keyring = Keyring([os.urandom(32)])
    value = "身份证 110101199003071234 — 北京市东城区"
    token = keyring.seal_value(value, CONTEXT)
    assert token.isascii() and token.startswith(f"v1.{keyring.current_key_id}.")
    assert "110101199003071234" not in token
    assert keyring.open_value(token, CONTEXT) == value
    assert keyring.seal_value(value, CONTEXT) != token  # fresh nonce each time
    assert keyring.open_value(keyring.seal_value("", CONTEXT), CONTEXT) == ""


def test_field_sealing_rejects_other_context_and_tampering():
    keyring = Keyring([os.urandom(32)])
    token = keyring.seal_value("13800138000", "customer.phone")
    with pytest.raises(WrongKey, match="another context"):
        keyring.open_value(token, "customer.id_number")
    prefix, key_id, body = token.split(".")
    altered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(WrongKey):
        keyring.open_value(f"{prefix}.{key_id}.{altered}", "customer.phone")
    for malformed in ("", "v2.mk-000000000000.AAAA", "v1.nokey.AAAA", f"v1.{key_id}.AAAA"):
        with pytest.raises(MalformedKey):
            keyring.open_value(malformed, "customer.phone")


def test_blind_index_is_stable_keyed_and_context_bound():
    material = os.urandom(32)
    first, second = Keyring([material]), Keyring([material])
    index = first.blind_index("110101199003071234", CONTEXT)
    assert len(index) == 64 and int(index, 16) >= 0
    assert second.blind_index("110101199003071234", CONTEXT) == index
    assert first.blind_index("110101199003071235", CONTEXT) != index
    assert first.blind_index("110101199003071234", "customer.phone") != index
    assert Keyring([os.urandom(32)]).blind_index("110101199003071234", CONTEXT) != index


def test_blind_indexes_cover_old_keys_after_rotation():
    old, new = os.urandom(32), os.urandom(32)
    before = Keyring([old]).blind_index("A123", CONTEXT)
    after = Keyring([new, old])
    assert after.blind_indexes("A123", CONTEXT) == [after.blind_index("A123", CONTEXT), before]

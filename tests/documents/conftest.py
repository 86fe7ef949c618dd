"""Shared helpers for the document pages: an English-speaking filer, uploads through the real form."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from archive.auth.services import department_by_code
from archive.core.enums import Level, Role
from tests.factories import csrf_token


def blob_files(app) -> set[Path]:
    root = Path(app.config["STORAGE_DIR"]) / "blobs"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def upload(client, dossier_id: int, files: list[tuple[bytes, str]], **fields):
    """Post the filing form as a browser does: metadata plus one or many files."""
    path = f"/dossiers/{dossier_id}/upload"
    data = {
        "csrf_token": csrf_token(client, path),
        "category": "XS",
        "title": "认购书",
        "responsible_party": "丽景苑置业有限公司",
        "doc_date": "2023-05-08",
        "department_id": str(department_by_code("SALES").id),
        "level": "C",
        "is_original": "original",
        "carrier": "electronic",
        "retention": "",
        "location_room": "3楼档案室",
        "location_box": "盒12",
        "location_shelf": "架A-3",
        **fields,
        "files": [(io.BytesIO(content), name) for content, name in files],
    }
    return client.post(path, data=data, content_type="multipart/form-data")


@pytest.fixture
def clerk(factory):
    """A sales clerk: files its own department's documents, clearance C."""
    return factory.user("sales-clerk", roles=(Role.CLERK,), department="SALES", clearance=Level.C)

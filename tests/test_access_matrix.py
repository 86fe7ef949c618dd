"""Every path asks the same policy: role × clearance × level × department × path must agree.

The expected answer comes from DOMAIN.md's rule, written here independently of the implementation:
a person reads a document when they work with dossiers, their clearance reaches its level, and they
have a need to know (own department, in the knowledge scope, or a cross-department role).
"""
from __future__ import annotations

import hashlib
import shutil
from itertools import product

import pytest
import sqlalchemy as sa

from archive.core.enums import Level, Role
from archive.extensions import db
from tests.conftest import POSTGRES_URL, _reset_postgres, make_app, ready_archive
from tests.factories import Factory, make_pdf

ROLES = [Role.CLERK, Role.DEPT_HEAD, Role.ARCHIVIST, Role.ARCHIVE_HEAD, Role.COMPLIANCE, Role.ADMIN]
CLEARANCES = [Level.C, Level.B, Level.A]
LEVELS = [Level.C, Level.B, Level.A]
# The users all belong to SALES; the document is SALES's own, FIN's, or FIN's with SALES in its scope.
RELATIONS = {"own": ("SALES", ()), "other": ("FIN", ()), "scope": ("FIN", ("SALES",))}


def expected_visible(role: Role, clearance: Level, level: Level, relation: str) -> bool:
    reads_dossiers = role is not Role.ADMIN
    cross_department = role in (Role.ARCHIVIST, Role.ARCHIVE_HEAD, Role.COMPLIANCE)
    need_to_know = cross_department or relation in ("own", "scope")
    return reads_dossiers and clearance.rank >= level.rank and need_to_know


@pytest.fixture(scope="module")
def world(migrated_database, tmp_path_factory):
    """One archive holding a document per level × relation and a user per role × clearance."""
    tmp = tmp_path_factory.mktemp("matrix")
    if POSTGRES_URL:
        _reset_postgres(migrated_database)
        url = migrated_database
    else:
        shutil.copyfile(sa.make_url(migrated_database).database, tmp / "matrix.db")
        url = f"sqlite:///{tmp / 'matrix.db'}"
    app = make_app(url, tmp / "storage")
    with app.app_context():
        ready_archive()
        factory = Factory(app)
        dossier = factory.dossier()
        documents, contents = {}, {}
        for level, relation in product(LEVELS, RELATIONS):
            department, scope = RELATIONS[relation]
            content = make_pdf(f"{level.value}-{relation} 认购书")
            doc = factory.document(dossier, level=level, department=department, scope_departments=scope,
                                   title=f"认购书 {level.value} {relation}", content=content)
            documents[(level, relation)] = (doc.id, doc.archive_number)
            contents[doc.id] = hashlib.sha256(content).hexdigest()
        users, clients = {}, {}
        for role, clearance in product(ROLES, CLEARANCES):
            name = f"{role.value.replace('_', '-')}-{clearance.value.lower()}"
            factory.user(name, roles=(role,), department="SALES", clearance=clearance)
            client = app.test_client()
            assert factory.login(client, name).status_code == 302
            users[(role, clearance)], clients[name] = name, client
        yield app, dossier.id, documents, contents, users, clients
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("role,clearance", list(product(ROLES, CLEARANCES)), ids=lambda v: v.value)
@pytest.mark.parametrize("level,relation", list(product(LEVELS, RELATIONS)), ids=str)
def test_every_path_agrees(world, role, clearance, level, relation, tmp_path):
    app, dossier_id, documents, contents, users, clients = world
    doc_id, number = documents[(level, relation)]
    username = users[(role, clearance)]
    client = clients[username]
    visible = expected_visible(role, clearance, level, relation)

    link = f'href="/documents/{doc_id}"'
    listing = client.get(f"/dossiers/{dossier_id}")
    assert (link in listing.get_data(as_text=True)) is visible, "dossier listing"
    search = client.get("/search", query_string={"archive_number": number})
    assert (link in search.get_data(as_text=True)) is visible, "metadata search"

    page = client.get(f"/documents/{doc_id}")
    assert page.status_code == (200 if visible else 404), "document page"
    download = client.get(f"/documents/{doc_id}/download")
    assert download.status_code == (200 if visible else 404), "download"
    if visible:
        assert hashlib.sha256(download.get_data()).hexdigest() == contents[doc_id]
    preview = client.get(f"/documents/{doc_id}/preview")
    assert preview.status_code == (200 if visible else 404), "preview"

    out = tmp_path / "export.pdf"
    result = app.test_cli_runner().invoke(args=["documents", "get", number, "--as", username, "-o", str(out)])
    assert (result.exit_code == 0) is visible, f"CLI export: {result.output}"
    assert out.exists() is visible

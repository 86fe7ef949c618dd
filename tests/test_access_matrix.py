"""Every path asks the same policy: role × clearance × level × department × path must agree.

The expected answer comes from DOMAIN.md's rule, written here independently of the implementation:
a person reads a document when they work with dossiers, their clearance reaches its level, and they
have a need to know (own department, in the knowledge scope, or a cross-department role).
"""
from __future__ import annotations

import hashlib
import json
import re
from itertools import product

import pytest

from archive.core.enums import Level, Role
from tests.conftest import fresh_database, make_app, running
from tests.factories import Factory, make_pdf

ROLES = [Role.CLERK, Role.DEPT_HEAD, Role.ARCHIVIST, Role.ARCHIVE_HEAD, Role.COMPLIANCE, Role.ADMIN]
CLEARANCES = [Level.C, Level.B, Level.A]
LEVELS = [Level.C, Level.B, Level.A]
# The users all belong to SALES; the document is SALES's own, FIN's, or FIN's with SALES in its scope.
RELATIONS = {"own": ("SALES", ()), "other": ("FIN", ()), "scope": ("FIN", ("SALES",))}
# A word found in one document's text only (characters used nowhere else), for the full-text search path.
UNIQUE_WORDS = dict(zip(product(LEVELS, RELATIONS), ["琥珀", "翡翠", "玛瑙", "珊瑚", "琉璃", "麒麟", "凤凰", "鸳鸯", "蝴蝶"]))


def expected_visible(role: Role, clearance: Level, level: Level, relation: str) -> bool:
    reads_dossiers = role is not Role.ADMIN
    cross_department = role in (Role.ARCHIVIST, Role.ARCHIVE_HEAD, Role.COMPLIANCE)
    need_to_know = cross_department or relation in ("own", "scope")
    return reads_dossiers and clearance.rank >= level.rank and need_to_know


def _search_total(html: str) -> int:
    return int(re.search(r'id="total">\D*(\d+)', html).group(1))


@pytest.fixture(scope="module")
def world(migrated_database, tmp_path_factory):
    """One archive holding a document per level × relation and a user per role × clearance."""
    tmp = tmp_path_factory.mktemp("matrix")
    # The queue runs each task at once: filing → text → index, so full-text search sees every document.
    app = make_app(fresh_database(migrated_database, tmp), tmp / "storage", QUEUE_IMMEDIATE=True,
                   INDEX_LEVEL_A_CONTENT=True)
    with running(app):
        factory = Factory(app)
        dossier = factory.dossier()
        documents, contents = {}, {}
        for level, relation in product(LEVELS, RELATIONS):
            department, scope = RELATIONS[relation]
            content = make_pdf(f"{level.value}-{relation} 认购书", f"押金 {UNIQUE_WORDS[(level, relation)]}",
                               "本文件由置业公司档案室归档保存，仅供经授权的人员在工作需要时查阅使用。")
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
    if role is Role.ADMIN:
        assert client.get("/find", query_string={"archive_number": number}).status_code == 403, "metadata search"
        assert client.get("/search", query_string={"archive_number": number}).status_code == 403, "old search"
    else:
        search = client.get("/find", query_string={"archive_number": number}).get_data(as_text=True)
        assert (link in search) is visible, "metadata search"
        assert _search_total(search) == (1 if visible else 0), "metadata search count"
        moved = client.get("/search", query_string={"archive_number": number})
        assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/find?archive_number={number}")

    page = client.get(f"/documents/{doc_id}")
    assert page.status_code == (200 if visible else 404), "document page"
    download = client.get(f"/documents/{doc_id}/download")
    assert download.status_code == (200 if visible else 404), "download"
    if visible:
        assert hashlib.sha256(download.get_data()).hexdigest() == contents[doc_id]
    preview = client.get(f"/documents/{doc_id}/preview")
    assert preview.status_code == (200 if visible else 404), "preview"

    # Full-text search: the document's own word finds it exactly when it is visible, and nothing on the
    # page (count, facets, pages) nor a suggestion changes when it is not.
    word = UNIQUE_WORDS[(level, relation)]
    if role is Role.ADMIN:  # the administrator does not read dossiers (三员分立): no search at all
        assert client.get("/find", query_string={"q": word}).status_code == 403, "full-text search"
        assert client.get("/find/suggest", query_string={"q": number}).status_code == 403, "autocomplete"
        cli = app.test_cli_runner().invoke(args=["search", word, "--user", username, "--json"])
        assert cli.exit_code == 1, "CLI search"
    else:
        found = client.get("/find", query_string={"q": word}).get_data(as_text=True)
        assert (link in found) is visible, "full-text search"
        assert _search_total(found) == (1 if visible else 0), "search count"
        assert ("category=XS" in found) is visible, "search facets"
        suggestions = client.get("/find/suggest", query_string={"q": number}).get_json()
        assert (number in [s["text"] for s in suggestions]) is visible, "autocomplete"
        everything = client.get("/find", query_string={"q": "押金"}).get_data(as_text=True)
        readable = sum(expected_visible(role, clearance, lvl, rel) for lvl, rel in product(LEVELS, RELATIONS))
        assert _search_total(everything) == readable, "search total"
        cli = app.test_cli_runner().invoke(args=["search", word, "--user", username, "--json"])
        assert json.loads(cli.output)["total"] == (1 if visible else 0), "CLI search"

    out = tmp_path / "export.pdf"
    result = app.test_cli_runner().invoke(args=["documents", "get", number, "--as", username, "-o", str(out)])
    assert (result.exit_code == 0) is visible, f"CLI export: {result.output}"
    assert out.exists() is visible


@pytest.mark.parametrize("action", ["read", "read_file", "view_rendition", "edit", "request"])
def test_the_policys_reasons_select_what_its_clause_selects(world, action):
    """The listing of every allowed row reads each reason on its own (UNION ALL): together they must be
    exactly the rows of the one clause, for every role and clearance."""
    import sqlalchemy as sa

    from archive.auth.models import User
    from archive.core.permissions import policy
    from archive.documents.models import Document
    from archive.extensions import db

    _app, _dossier_id, documents, _contents, users, _clients = world
    # In the world's own app context, as the pages' requests run: a second context would open a second
    # SQLite connection and wait for the first one's transaction.
    try:
        for (role, clearance), username in users.items():
            user = db.session.scalar(sa.select(User).where(User.username == username))
            by_clause = set(db.session.scalars(sa.select(Document.id).where(policy.where(user, action, Document))))
            by_reason = set()
            for reason in policy.alternatives(user, action, Document):
                by_reason.update(db.session.scalars(sa.select(Document.id).where(reason)))
            assert by_reason == by_clause, (username, action)
            if action == "read":
                assert by_clause == {documents[key][0] for key in documents
                                     if expected_visible(role, clearance, *key)}, username
    finally:
        db.session.rollback()

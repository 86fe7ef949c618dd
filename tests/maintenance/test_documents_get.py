"""`archive documents get`: the shell's download, under the same policy and audit as the web pages."""
import json

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.core.enums import Level, Role
from archive.extensions import db
from tests.factories import make_pdf


@pytest.fixture
def contract(factory):
    content = make_pdf("房地产买卖合同", "买受人 李明", pages=2)
    document = factory.document(factory.dossier(), department="SALES", title="房地产买卖合同", content=content)
    return document, content


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_allowed_user_gets_the_decrypted_file_and_the_export_is_audited(runner, factory, contract, tmp_path):
    document, content = contract
    clerk = factory.user("sales.clerk", department="SALES")
    output = tmp_path / "out" / "contract.pdf"
    output.parent.mkdir()

    result = runner.invoke(args=["documents", "get", document.archive_number, "--as", "sales.clerk",
                                 "-o", str(output)])

    assert result.exit_code == 0, result.output
    assert output.read_bytes() == content
    assert f"Wrote {len(content)} bytes to {output}" in result.output
    assert [p.name for p in output.parent.iterdir()] == ["contract.pdf"]  # no partial file left behind
    (export,) = _events("document.export")
    assert (export.actor_id, export.object_id, export.outcome) == (clerk.id, str(document.id), "success")
    assert json.loads(export.details)["archive_number"] == document.archive_number


@pytest.mark.parametrize("username, department, roles, clearance", [
    ("csc.clerk", "CSC", (Role.CLERK,), Level.A),  # another department, no need to know
    ("root", "GMO", (Role.ADMIN,), Level.A),  # the administrator reads no documents
    ("low.clearance", "SALES", (Role.CLERK,), Level.C),  # own department, but the document is level B
])
def test_user_who_may_not_read_it_is_refused_and_the_attempt_is_audited(
    runner, factory, tmp_path, username, department, roles, clearance
):
    document = factory.document(factory.dossier(), department="SALES", level=Level.B)
    refused = factory.user(username, department=department, roles=roles, clearance=clearance)
    output = tmp_path / "contract.pdf"

    result = runner.invoke(args=["documents", "get", document.archive_number, "--as", username, "-o", str(output)])

    assert result.exit_code == 1
    assert f"No document {document.archive_number} visible to {username}." in result.output
    assert not output.exists()
    assert _events("document.export") == []
    (denied,) = _events("access.denied")
    assert (denied.actor_id, denied.object_id, denied.outcome) == (refused.id, document.archive_number, "denied")
    assert json.loads(denied.details)["attempted"] == "export"


def test_unknown_user_and_unknown_number_are_refused_alike(runner, contract, tmp_path):
    document, _ = contract

    unknown_user = runner.invoke(args=["documents", "get", document.archive_number, "--as", "nobody",
                                       "-o", str(tmp_path / "a.pdf")])
    unknown_number = runner.invoke(args=["documents", "get", "QZ01-NONE-0001", "--as", "nobody",
                                         "-o", str(tmp_path / "b.pdf")])

    assert (unknown_user.exit_code, unknown_number.exit_code) == (1, 1)
    assert f"No document {document.archive_number} visible to nobody." in unknown_user.output
    assert "No document QZ01-NONE-0001 visible to nobody." in unknown_number.output
    assert [e.outcome for e in _events("access.denied")] == ["denied", "denied"]

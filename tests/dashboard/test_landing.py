"""The landing page: the archive head sees integrity alerts and the state of the backups; others their part."""
from __future__ import annotations

from archive.backup import services as backups
from archive.core.enums import Level, Role
from archive.integrity import fixity
from tests.factories import flip_a_byte, login_in_english


def _page(client, factory, user) -> str:
    login_in_english(client, factory, user)
    answer = client.get("/", follow_redirects=True)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_archive_head_lands_on_alerts_and_backups(app, client, factory, tmp_path):
    head = factory.user("head", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
    document = factory.document(factory.dossier(), title="认购书 张伟")

    calm = _page(client, factory, head)
    assert "Integrity alerts" in calm and "No open alerts" in calm
    assert "No backup destination is configured" in calm and calm.count("None yet") == 2

    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    backups.backup(tmp_path / "backups")
    flip_a_byte(document.current_version.blob_id)
    fixity.run_fixity(batch=100)

    alarmed = client.get("/dashboard").get_data(as_text=True)
    assert document.archive_number in alarmed and "Stored bytes changed" in alarmed
    assert "No backup destination is configured" not in alarmed and alarmed.count("None yet") == 1  # no drill yet
    assert "1 documents" in alarmed


def test_the_landing_page_in_chinese(app, client, factory):
    head = factory.user("head", roles=(Role.ARCHIVE_HEAD,), department="GMO")
    factory.login(client, head)
    page = client.get("/dashboard", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "完整性告警" in page and "备份" in page


def test_the_compliance_officer_sees_alerts_but_not_backups(app, client, factory):
    page = _page(client, factory, factory.user("auditor", roles=(Role.COMPLIANCE,), department="GMO"))
    assert "Integrity alerts" in page and "Last good backup" not in page


def test_the_administrator_sees_backups_but_not_alerts(app, client, factory):
    page = _page(client, factory, factory.user("admin2", roles=(Role.ADMIN,), department="GMO"))
    assert "Last good backup" in page and "Integrity alerts" not in page


def test_a_clerk_lands_on_the_dashboard_too(app, client, factory):
    page = _page(client, factory, factory.user("clerk"))
    assert "My open loans" in page and "Handovers due from my department" in page
    assert "Integrity alerts" not in page and "Last good backup" not in page

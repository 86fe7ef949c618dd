"""Scheduled backups, and the dashboard panel of the last good backup and restore drill."""
from __future__ import annotations

from datetime import datetime

from flask import render_template
from flask_babel import force_locale

from archive.backup import services
from archive.backup.tasks import due, scheduled_backup
from tests.factories import make_pdf


def test_schedule_is_read_as_cron_fields_in_local_time():
    assert due("30 2 * * *", datetime(2026, 11, 23, 2, 30, 41))
    assert not due("30 2 * * *", datetime(2026, 11, 23, 2, 31))
    assert due("0 4 * * 0", datetime(2026, 11, 22, 4, 0))  # a Sunday
    assert not due("0 4 * * 0", datetime(2026, 11, 23, 4, 0))


def test_the_scheduled_task_backs_up_only_when_a_destination_is_set(app, factory, tmp_path):
    factory.document(factory.dossier(), title="认购书", content=make_pdf("认购书", "定金人民币五万元"))
    app.config.update(BACKUP_CRONTAB="* * * * *", BACKUP_DRILL_CRONTAB="0 0 31 2 *")  # every minute; never

    scheduled_backup.call_local()
    assert services.last_good_backup() is None
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    scheduled_backup.call_local()

    good = services.last_good_backup()
    assert good is not None and good.documents == 1
    assert services.latest_snapshot(tmp_path / "backups") == services.resolve_snapshot(good.snapshot)


def test_panel_warns_without_destination_or_any_backup(app):
    with app.test_request_context(), force_locale("en"):
        html = render_template("backup/_status_panel.html", backup_status=services.status())

    assert "No backup destination is configured" in html
    assert html.count("None yet") == 2

"""The notification list, marking read, and the unread count every page shows in the navigation."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core.web import safe_next
from . import services

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def unread_notifications() -> dict:
    """`unread_notifications`: how many notifications the signed-in user has not read (0 when signed out)."""
    signed_in = current_user and current_user.is_authenticated
    return {"unread_notifications": services.unread_count(current_user) if signed_in else 0}


@bp.get("/notifications")
@login_required
def inbox():
    page = services.listing(current_user, page=request.args.get("page", 1, type=int))
    rows = [(notification, services.text(notification)) for notification in page.items]
    return render_template("notifications/list.html", page=page, rows=rows)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Mark read; with `open`, go on to what the notification is about (a path inside the archive)."""
    notification = services.mark_read(current_user, notification_id)
    if request.form.get("open") and notification.link:
        return redirect(safe_next(notification.link, url_for("notifications.inbox")))
    return redirect(url_for("notifications.inbox"))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    services.mark_all_read(current_user)
    return redirect(url_for("notifications.inbox"))

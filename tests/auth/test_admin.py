"""User and department administration through the pages: administrators only, every change audited."""
import json
import re

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.auth.models import Department, User
from archive.core.enums import Level, Role
from archive.extensions import db
from tests.auth.conftest import browser
from tests.factories import csrf_token


@pytest.fixture
def admin(factory):
    return factory.user("root", roles=(Role.ADMIN,), department="GMO")


@pytest.fixture
def admin_client(client, factory, admin):
    factory.login(client, admin)
    return client


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _shown_password(response) -> str:
    (password,) = re.findall(r'<code class="password">([^<]+)</code>', response.get_data(as_text=True))
    return password


def _create(client, **fields):
    data = {"username": "chen.jing", "display_name": "陈静", "department": "CSC", "roles": ["clerk"],
            "clearance": "C", **fields}
    return client.post("/admin/users/new", data={**data, "csrf_token": csrf_token(client, "/admin/users/new")})


def _edit(client, user: User, **fields):
    data = {"display_name": user.display_name, "department": user.department.code,
            "roles": sorted(r.value for r in user.roles), "clearance": user.clearance.value, "active": "y", **fields}
    data = {k: v for k, v in data.items() if v is not None}  # an unticked checkbox is not sent at all
    return client.post(f"/admin/users/{user.id}", data={**data, "csrf_token": csrf_token(client, "/account")})


def test_clerk_gets_403_on_every_administration_page(client, factory, admin):
    factory.user("wang.li")
    factory.login(client, "wang.li")
    token = csrf_token(client, "/account")

    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{admin.id}", "/admin/departments"):
        assert client.get(path).status_code == 403, path
    created = client.post("/admin/users/new", data={
        "username": "sneaky", "display_name": "x", "department": "GMO", "roles": ["admin"], "clearance": "A",
        "csrf_token": token,
    })
    department = client.post("/admin/departments", data={"code": "X", "name": "x", "csrf_token": token})
    reset = client.post(f"/admin/users/{admin.id}/password", data={"csrf_token": token})

    assert (created.status_code, department.status_code, reset.status_code) == (403, 403, 403)
    assert _user("sneaky") is None
    assert db.session.scalar(sa.select(Department.id).where(Department.code == "X")) is None
    denied = _events("access.denied")
    assert denied and {e.outcome for e in denied} == {"denied"}
    assert {json.loads(e.details)["attempted"] for e in denied} == {"manage_users"}


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/admin/users")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_user_list_shows_department_roles_clearance_state_and_last_login(admin_client, factory):
    factory.user("zhang.wei", roles=(Role.DEPT_HEAD, Role.CLERK), department="LEGAL", clearance=Level.B)

    html = admin_client.get("/admin/users").get_data(as_text=True)

    row = re.search(r"<tr>\s*<td><a [^>]*>zhang\.wei</a>.*?</tr>", html, re.S).group(0)
    assert "法律室" in row and "Clerk, Department head" in row and "level-B" in row
    assert "never" in row
    root_row = re.search(r"<tr>\s*<td><a [^>]*>root</a>.*?</tr>", html, re.S).group(0)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", root_row)  # the administrator has just logged in


def test_admin_creates_a_user_whose_password_is_shown_once(app, admin_client, admin):
    response = _create(admin_client, roles=["clerk", "dept_head"], clearance="B")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response)
    created = _user("chen.jing")
    assert (created.display_name, created.department.code, created.clearance) == ("陈静", "CSC", Level.B)
    assert created.roles == {Role.CLERK, Role.DEPT_HEAD}
    assert password not in admin_client.get(f"/admin/users/{created.id}").get_data(as_text=True)
    assert password not in admin_client.get("/admin/users").get_data(as_text=True)
    (event,) = _events("user.create")[-1:]
    assert event.actor_id == admin.id and event.object_id == str(created.id)
    assert json.loads(event.details) == {"username": "chen.jing", "department": "CSC",
                                         "roles": ["clerk", "dept_head"], "clearance": "B"}
    new_browser = browser(app)
    token = csrf_token(new_browser, "/login")
    assert new_browser.post("/login", data={"username": "chen.jing", "password": password,
                                            "csrf_token": token}).status_code == 302


def test_taken_login_and_missing_role_are_explained_on_the_form(admin_client, factory):
    factory.user("chen.jing")

    taken = _create(admin_client)
    no_role = _create(admin_client, username="li.na", roles=[])

    assert taken.status_code == 409
    assert "The login chen.jing is taken." in taken.get_data(as_text=True)
    assert no_role.status_code == 400
    assert "Give the user at least one role." in no_role.get_data(as_text=True)
    assert _user("li.na") is None


def test_admin_edits_a_user_and_the_change_is_audited_with_old_and_new_values(admin_client, factory, admin):
    clerk = factory.user("wang.li", department="SALES")

    response = _edit(admin_client, clerk, display_name="王丽", department="CA", roles=["clerk", "dept_head"],
                     clearance="B")

    assert response.status_code == 302
    edited = _user("wang.li")
    assert (edited.display_name, edited.department.code, edited.clearance) == ("王丽", "CA", Level.B)
    assert edited.roles == {Role.CLERK, Role.DEPT_HEAD}
    (event,) = _events("user.update")
    assert event.actor_id == admin.id and event.object_id == str(clerk.id)
    assert json.loads(event.details)["changes"] == {
        "display_name": ["wang.li", "王丽"],
        "department": ["SALES", "CA"],
        "roles": [["clerk"], ["clerk", "dept_head"]],
        "clearance": ["C", "B"],
    }


def test_admin_disables_a_user_who_is_then_logged_out_and_locked_out(app, admin_client, factory):
    clerk = factory.user("wang.li")
    clerk_browser = browser(app)
    factory.login(clerk_browser, clerk)
    assert clerk_browser.get("/account").status_code == 200

    assert _edit(admin_client, clerk, active=None).status_code == 302

    assert _user("wang.li").active is False
    assert clerk_browser.get("/account").status_code == 302
    assert factory.login(browser(app), "wang.li").status_code == 401
    (event,) = _events("user.update")
    assert json.loads(event.details)["changes"] == {"active": [True, False]}
    assert "muted" in re.search(r"<tr[^>]*>\s*<td><a [^>]*>wang\.li</a>", admin_client.get("/admin/users")
                                .get_data(as_text=True)).group(0)


def test_admin_cannot_lock_themselves_out(admin_client, admin):
    disable_self = _edit(admin_client, admin, active=None)
    demote_self = _edit(admin_client, admin, roles=["clerk"])

    for response in (disable_self, demote_self):
        assert response.status_code == 400
        assert "You cannot disable your own account" in response.get_data(as_text=True)
    assert _user("root").active and _user("root").roles == {Role.ADMIN}
    assert _events("user.update") == []


def test_reset_password_shows_the_new_one_once_and_the_old_one_stops_working(app, admin_client, factory):
    clerk = factory.user("wang.li")

    response = admin_client.post(f"/admin/users/{clerk.id}/password",
                                 data={"csrf_token": csrf_token(admin_client, f"/admin/users/{clerk.id}")})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response)
    assert factory.login(browser(app), "wang.li").status_code == 401
    assert factory.login(browser(app), "wang.li", password).status_code == 302
    (event,) = _events("user.password_reset")
    assert event.object_id == str(clerk.id) and password not in event.details


def test_admin_creates_a_department(admin_client, admin):
    page = admin_client.get("/admin/departments")
    assert "总经理办公室" in page.get_data(as_text=True)

    response = admin_client.post("/admin/departments", data={
        "code": "prop", "name": "物业管理部", "name_en": "Property management",
        "csrf_token": csrf_token(admin_client, "/admin/departments"),
    })

    assert response.status_code == 302
    department = db.session.scalar(sa.select(Department).where(Department.code == "PROP"))
    assert (department.name, department.name_en, department.is_archive) == ("物业管理部", "Property management", False)
    assert "物业管理部" in admin_client.get("/admin/departments").get_data(as_text=True)
    (event,) = _events("department.create")
    assert event.actor_id == admin.id
    # The new department is offered when creating a user.
    assert 'value="PROP"' in admin_client.get("/admin/users/new").get_data(as_text=True)

    again = admin_client.post("/admin/departments", data={
        "code": "PROP", "name": "重复", "csrf_token": csrf_token(admin_client, "/admin/departments"),
    })
    assert again.status_code == 409
    assert "A department with code PROP already exists." in again.get_data(as_text=True)

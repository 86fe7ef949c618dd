"""Projects, buildings and units registered through the pages, each unit with its dossier and archive number."""
from __future__ import annotations

import re

import sqlalchemy as sa

from archive.core.enums import Role, UnitKind
from archive.extensions import db
from archive.units.models import Building, Dossier, Project, Unit
from tests.factories import csrf_token, login_in_english
from tests.units.helpers import archivist, post_form


def create_project_through_form(client, code="LJY", name="丽景苑", address="深圳市南山区") -> int:
    token = csrf_token(client, "/projects/new")
    response = client.post("/projects/new", data={"csrf_token": token, "code": code, "name": name,
                                                  "address": address})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/projects/(\d+)$", response.headers["Location"]).group(1))


def add_building_through_form(client, project_id: int, code="03", name="3栋"):
    page = f"/projects/{project_id}"
    return post_form(client, page, f"{page}/buildings", "building", code=code, name=name)


def add_units_through_form(client, project_id: int, building_id: int, lines: str):
    page = f"/projects/{project_id}"
    return post_form(client, page, f"{page}/units", "units", building=str(building_id), lines=lines)


def test_archivist_builds_a_project_and_every_unit_gets_its_dossier(client, factory):
    login_in_english(client, factory, archivist(factory))
    listing = client.get("/projects").get_data(as_text=True)
    assert 'href="/projects/new"' in listing

    project_id = create_project_through_form(client)
    assert add_building_through_form(client, project_id).status_code == 302
    building_id = db.session.scalar(sa.select(Building.id).where(Building.project_id == project_id))

    response = add_units_through_form(client, project_id, building_id,
                                      "2-1501, 2单元1501, residential, 15\n"
                                      "\n"
                                      "2-1502，2单元1502，住宅，15\n"
                                      "S-101, 101商铺, shop, 1\n"
                                      "P-B1-08, B1-08车位, parking, -1\n")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "4 units are added, each with its dossier and archive number." in page
    assert re.search(r"<td>03</td><td>3栋</td><td>4</td>\s*<td>2</td><td>1</td><td>1</td>", page), page

    units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
    assert units["P-B1-08"].kind is UnitKind.PARKING and units["P-B1-08"].floor == -1
    assert units["2-1502"].kind is UnitKind.RESIDENTIAL and units["2-1502"].name == "2单元1502"

    dossiers = client.get(f"/dossiers?project={project_id}").get_data(as_text=True)
    numbers = re.findall(r">(QZ01-LJY-[^<]+)</a>", dossiers)
    # Residential dossiers are listed before the shop, the shop before the parking space.
    assert numbers == ["QZ01-LJY-03-2-1501", "QZ01-LJY-03-2-1502", "QZ01-LJY-03-S-101", "QZ01-LJY-03-P-B1-08"]
    assert "3栋2单元1502" in dossiers


def test_bad_unit_line_is_named_and_nothing_is_lost(client, factory):
    login_in_english(client, factory, archivist(factory))
    project_id = create_project_through_form(client)
    add_building_through_form(client, project_id)
    building_id = db.session.scalar(sa.select(Building.id))
    lines = "2-1501, 2单元1501, residential, 15\n2-1502, 2单元1502, villa, 15\n2-1503, 2单元1503, residential, 15"

    response = add_units_through_form(client, project_id, building_id, lines)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Line 2 (2-1502, 2单元1502, villa, 15): the kind must be residential, shop or parking." in page
    assert "2-1503, 2单元1503, residential, 15</textarea>" in page  # the typed lines are still in the form
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 0


def test_other_bad_unit_lines(client, factory):
    login_in_english(client, factory, archivist(factory))
    project_id = create_project_through_form(client)
    add_building_through_form(client, project_id)
    building_id = db.session.scalar(sa.select(Building.id))
    cases = {
        "2-1501, 2单元1501, residential, fifteen": "Line 1 (2-1501, 2单元1501, residential, fifteen): the floor must be "
                                                  "a whole number.",
        "2-1501\n2 1502, 2单元1502": "Line 2 (2 1502, 2单元1502): the unit code must be letters and digits",
        "2-1501\n2-1502\n2-1501, again": "Line 3 (2-1501, again): unit 2-1501 is already on line 1.",
        "2-1501, a, shop, 1, extra": "Line 1 (2-1501, a, shop, 1, extra): give at most four values",
    }
    for lines, message in cases.items():
        response = add_units_through_form(client, project_id, building_id, lines)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 0


def test_units_that_already_exist_are_refused_whole(client, factory):
    login_in_english(client, factory, archivist(factory))
    project_id = create_project_through_form(client)
    add_building_through_form(client, project_id)
    building_id = db.session.scalar(sa.select(Building.id))
    assert add_units_through_form(client, project_id, building_id, "2-1501").status_code == 302

    response = add_units_through_form(client, project_id, building_id, "2-1502\n2-1501")

    assert response.status_code == 409
    assert "These units already exist: 2-1501" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Dossier.archive_number)).all() == ["QZ01-LJY-03-2-1501"]


def test_duplicate_project_and_building_codes_are_explained(client, factory):
    login_in_english(client, factory, archivist(factory))
    project_id = create_project_through_form(client)

    token = csrf_token(client, "/projects/new")
    again = client.post("/projects/new", data={"csrf_token": token, "code": "ljy", "name": "另一个"})
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "A project with code LJY already exists." in page
    assert 'value="另一个"' in page

    assert add_building_through_form(client, project_id).status_code == 302
    duplicate = add_building_through_form(client, project_id, name="三栋")
    assert duplicate.status_code == 409
    assert "Building 03 already exists in this project." in duplicate.get_data(as_text=True)


def test_clerk_sees_projects_but_cannot_create_or_change_them(client, factory):
    project = factory.project()
    building = factory.dossier(project).unit.building
    clerk = factory.user(roles=(Role.CLERK,), department="SALES")
    login_in_english(client, factory, clerk)

    assert client.get("/projects/new").status_code == 403
    token = csrf_token(client, "/projects")
    assert client.post("/projects/new", data={"csrf_token": token, "code": "NEW", "name": "新项目"}).status_code == 403
    assert db.session.scalar(sa.select(Project.id).where(Project.code == "NEW")) is None

    page = client.get(f"/projects/{project.id}")
    assert page.status_code == 200
    assert "Add a building" not in page.get_data(as_text=True)
    assert client.post(f"/projects/{project.id}/buildings", data={
        "building-csrf_token": token, "building-code": "09", "building-name": "9栋"}).status_code == 404
    assert client.post(f"/projects/{project.id}/units", data={
        "units-csrf_token": token, "units-building": str(building.id), "units-lines": "9-901"}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 1

    assert client.get("/admin/users").status_code == 403


def test_forms_without_csrf_token_are_refused(client, factory):
    login_in_english(client, factory, archivist(factory))
    response = client.post("/projects/new", data={"code": "LJY", "name": "丽景苑"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 0

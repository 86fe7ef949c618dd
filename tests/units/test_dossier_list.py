"""The dossier list: search, project filter, order, and a fixed number of queries however many rows."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from archive.core.enums import OccupancyRole, UnitKind
from archive.extensions import db
from archive.units import services as units
from tests.factories import login_in_english
from tests.units.helpers import archivist


def add_units_with_holders(factory, building, codes: list[str], kind: UnitKind = UnitKind.RESIDENTIAL):
    """Units, each with its dossier and a current owner, as the registry holds them."""
    created = units.add_units(factory.archivist, building.id,
                              [units.UnitSpec(code, f"{code}室", kind=kind) for code in codes])
    for unit in created:
        owner = units.register_customer(factory.archivist, f"业主{unit.code}")
        units.add_occupancy(factory.archivist, unit.dossier.id, owner.id, OccupancyRole.OWNER, date(2021, 5, 1))
    return created


def listed_numbers(html: str) -> list[str]:
    return re.findall(r'<a href="/dossiers/\d+">([^<]+)</a>', html)


def test_search_by_archive_number_unit_and_customer_and_filter_by_project(client, factory):
    ljy = factory.project("LJY", "丽景苑")
    hy = factory.project("HY", "海悦")
    target = factory.dossier(ljy, building="03", building_name="3栋", unit="2-1502", unit_name="2单元1502")
    factory.dossier(ljy, building="03", building_name="3栋", unit="2-1501", unit_name="2单元1501")
    other_project = factory.dossier(hy, building="03", building_name="3栋", unit="2-1502", unit_name="2单元1502")
    owner = units.register_customer(factory.archivist, "李四")
    units.add_occupancy(factory.archivist, target.id, owner.id, OccupancyRole.OWNER, date(2021, 5, 1))
    login_in_english(client, factory, archivist(factory))

    def search(**args) -> list[str]:
        response = client.get("/dossiers", query_string=args)
        assert response.status_code == 200
        return listed_numbers(response.get_data(as_text=True))

    assert search(q="QZ01-LJY-03-2-1502") == [target.archive_number]
    assert search(q="3栋2单元1502") == [target.archive_number, other_project.archive_number]
    assert search(q="3栋2单元1502", project=ljy.id) == [target.archive_number]
    assert search(q="李四") == [target.archive_number]
    assert search(project=hy.id) == [other_project.archive_number]
    assert search(q="王五") == []

    html = client.get("/dossiers", query_string={"q": "李四"}).get_data(as_text=True)
    assert "李四" in html and "Owner 业主" in html  # the current holder is shown in the row


def test_residential_dossiers_come_before_shops_and_ended_holders_are_not_current(client, factory):
    project = factory.project("LJY", "丽景苑")
    building = units.add_building(factory.archivist, project.id, "01", "1栋")
    add_units_with_holders(factory, building, ["S-101"], UnitKind.SHOP)
    (flat,) = add_units_with_holders(factory, building, ["1-101"])
    units.end_occupancy(factory.archivist, flat.occupancies[0].id, date(2023, 1, 1))
    login_in_english(client, factory, archivist(factory))

    html = client.get("/dossiers").get_data(as_text=True)

    assert listed_numbers(html) == ["QZ01-LJY-01-1-101", "QZ01-LJY-01-S-101"]
    assert "业主S-101" in html and "业主1-101" not in html


def test_list_pages_without_a_query_per_row(app, client, factory):
    project = factory.project("LJY", "丽景苑")
    building = units.add_building(factory.archivist, project.id, "03", "3栋")
    add_units_with_holders(factory, building, [f"1-{n:02d}" for n in range(4)])
    add_units_with_holders(factory, building, ["S-01"], UnitKind.SHOP)
    login_in_english(client, factory, archivist(factory))

    def statements_for_the_list() -> tuple[int, str]:
        seen: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get("/dossiers")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(seen), response.get_data(as_text=True)

    few, html = statements_for_the_list()
    assert len(listed_numbers(html)) == 5
    add_units_with_holders(factory, building, [f"2-{n:02d}" for n in range(40)])
    add_units_with_holders(factory, building, [f"S-{n:02d}" for n in range(2, 7)], UnitKind.SHOP)
    many, html = statements_for_the_list()

    numbers = listed_numbers(html)
    assert len(numbers) == app.config["PAGE_SIZE"] == 50
    assert numbers[-1] == "QZ01-LJY-03-S-06" and "业主S-06" in html  # the rows really carry their holders
    assert many == few

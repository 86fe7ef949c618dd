"""The yearly catalogue of departed customers' volumes: those whose holding of a unit ended in the year,
grouped by the unit's floor, with the unit, customer, dates and counts of the documents the printer may read."""
from __future__ import annotations

import json
import shutil
from datetime import date

from archive.core.enums import Level, OccupancyRole, Role, UnitKind
from archive.units import services as units

from .conftest import audit_events, holder, logged_in, paper, pdf_pages, render_png, squeeze

LOOK_AT = "/tmp/shelving-departed.png"  # kept for a human to look at


def test_departed_volumes_of_the_year_are_grouped_by_floor_with_their_counts(
        app, factory, archivist, c_archivist, tmp_path):
    project = factory.project("LJY", "丽景苑")
    building = units.add_building(factory.archivist, project.id, "03", "3栋")
    high, low, other, parking = (u.dossier for u in units.add_units(factory.archivist, building.id, [
        units.UnitSpec("2-1502", "2单元1502", floor=15),
        units.UnitSpec("1-0301", "1单元301", floor=3),
        units.UnitSpec("1-0302", "1单元302", floor=3),
        units.UnitSpec("P-018", "车位018", kind=UnitKind.PARKING),
    ]))
    holder(factory, high, "张伟", date(2020, 3, 1), date(2025, 6, 30))
    holder(factory, low, "李娜", date(2019, 1, 10), date(2025, 2, 28), role=OccupancyRole.TENANT)
    holder(factory, other, "赵敏", date(2018, 1, 1), date(2024, 12, 31))  # left the year before
    holder(factory, other, "孙丽", date(2025, 1, 1))  # still there
    holder(factory, parking, "周杰", date(2021, 5, 1), date(2025, 9, 1))
    for title, day in (("认购书", date(2020, 3, 1)), ("买卖合同", date(2020, 4, 2)), ("退房协议", date(2025, 6, 30))):
        paper(factory, high, title, doc_date=day, pages=2)
    paper(factory, high, "特殊折扣审批表", level=Level.B, doc_date=date(2021, 1, 5), pages=5)
    paper(factory, high, "新业主认购书", doc_date=date(2025, 7, 2))  # after 张伟 left: not in the volume
    paper(factory, low, "租赁合同", doc_date=date(2019, 1, 10))

    pdf = logged_in(app, factory, archivist).get("/catalogues/departed/2025.pdf").get_data()
    shutil.copyfile(render_png(pdf, tmp_path, "departed", resolution=80), LOOK_AT)
    pages = pdf_pages(pdf)
    text = "\n".join(pages)
    flat = squeeze(text)
    assert "2025年退出客户案卷目录" in flat
    third, fifteenth, unknown = flat.index("第3层"), flat.index("第15层"), flat.index("楼层未登记")
    assert third < fifteenth < unknown
    assert third < flat.index("李娜") < fifteenth < flat.index("张伟") < unknown < flat.index("周杰")
    assert "赵敏" not in flat and "孙丽" not in flat
    assert squeeze(f"3栋1单元301{low.archive_number}李娜租户2019-01-102025-02-2811") in flat
    assert squeeze(f"3栋2单元1502{high.archive_number}张伟业主2020-03-012025-06-30411") in flat
    assert "合计3卷，5件，12页" in flat

    # The B-level document is neither counted nor its pages added for a C-cleared archivist.
    flat = squeeze("".join(pdf_pages(logged_in(app, factory, c_archivist).get("/catalogues/departed/2025.pdf")
                                     .get_data())))
    assert squeeze("张伟业主2020-03-012025-06-3036") in flat
    assert "合计3卷，4件，7页" in flat
    assert [json.loads(e.details)["documents"] for e in audit_events("catalogue.print_departed")] == [5, 4]

    # A year with no departures says so.
    flat = squeeze("".join(pdf_pages(logged_in(app, factory, archivist).get("/catalogues/departed/2023.pdf")
                                     .get_data())))
    assert "2023年没有客户退出" in flat


def test_the_year_is_chosen_on_the_boxes_page_and_clerks_print_no_yearly_catalogue(app, factory, archivist):
    client = logged_in(app, factory, archivist)
    assert 'action="/catalogues/departed"' in client.get("/boxes/").get_data(as_text=True)
    response = client.get("/catalogues/departed?year=2025")
    assert response.status_code == 302 and response.location.endswith("/catalogues/departed/2025.pdf")
    assert client.get("/catalogues/departed?year=25x").status_code == 302  # back to the boxes page, told why

    clerk = factory.user("sales-clerk", roles=(Role.CLERK,), department="SALES", clearance=Level.A)
    assert logged_in(app, factory, clerk).get("/catalogues/departed/2025.pdf").status_code == 403

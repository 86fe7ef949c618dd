"""The box-back label (盒脊 / 备考): box code, title, place, the range of archive numbers in it and their
count, and a QR code a scanner reads back as the box code."""
from __future__ import annotations

import json
import shutil
import subprocess

import sqlalchemy as sa

from archive.core.enums import Level
from archive.extensions import db
from archive.shelving.models import Box

from .conftest import audit_events, logged_in, paper, pdf_pages, post_form, render_png, squeeze

LOOK_AT = "/tmp/shelving-label.png"  # kept for a human to look at


def boxed(app, factory, archivist, documents):
    client = logged_in(app, factory, archivist)
    post_form(client, "/boxes/new", "/boxes/new",
              {"code": "QZ01-H-0007", "title": "丽景苑 3栋 销售资料（2023年）", "floor": "3", "room": "档案室301",
               "shelf": "A-02"})
    box_id = db.session.scalar(sa.select(Box.id).where(Box.code == "QZ01-H-0007"))
    response = post_form(client, f"/boxes/{box_id}", f"/boxes/{box_id}/documents",
                         {"archive_numbers": "\n".join(d.archive_number for d in documents)})
    assert response.status_code == 302
    return client, box_id


def test_the_label_names_the_box_its_place_and_range_and_its_qr_code_reads_as_the_box_code(
        app, factory, archivist, tmp_path):
    dossier = factory.dossier()
    documents = [paper(factory, dossier, title, pages=pages)
                 for title, pages in (("排号协议", 2), ("认购书", 3), ("身份证复印件", 1))]
    client, box_id = boxed(app, factory, archivist, reversed(documents))

    response = client.get(f"/boxes/{box_id}/label.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(pdf_pages(response.get_data()))
    flat = squeeze(text)
    for expected in ("QZ01-H-0007", "丽景苑 3栋 销售资料（2023年）", "3 层", "档案室301", "A-02", "3 件", "6 页",
                     f"{documents[0].archive_number}\n至 {documents[2].archive_number}"):
        assert squeeze(expected) in flat, expected
    assert documents[1].archive_number not in flat  # a range, not a list

    png = render_png(response.get_data(), tmp_path, "label", resolution=200)
    scanned = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True)
    assert scanned.stdout.strip() == "QZ01-H-0007"
    shutil.copyfile(png, LOOK_AT)

    (printed,) = audit_events("box.print_label")
    assert printed.actor_id == archivist.id
    assert json.loads(printed.details)["documents"] == [d.archive_number for d in documents]


def test_the_label_counts_only_what_its_printer_may_read(app, factory, archivist, c_archivist):
    dossier = factory.dossier()
    ordinary = paper(factory, dossier, "认购书")
    secret = paper(factory, dossier, "特殊折扣审批表", level=Level.B, pages=4)
    _, box_id = boxed(app, factory, archivist, [ordinary, secret])
    response = logged_in(app, factory, c_archivist).get(f"/boxes/{box_id}/label.pdf")
    flat = squeeze("".join(pdf_pages(response.get_data())))
    assert ordinary.archive_number in flat and "1件1页" in flat
    assert secret.archive_number not in flat and "2件" not in flat

"""Boxes through the pages an archivist uses: create a box, put paper documents in, move it, take one out.
A document's page shows its box's place; a box lists only what its reader may read; clerks keep no boxes."""
from __future__ import annotations

import json
from archive.core.enums import Level, Role
from archive.extensions import db
from archive.shelving.models import Box

from .conftest import audit_events, logged_in, login, paper, post_form

NEW_BOX = {"code": "qz01-h-0001", "title": "丽景苑 3栋 销售资料", "floor": "3", "room": "档案室301", "shelf": "A-02"}


def create_box(client, **overrides):
    response = post_form(client, "/boxes/new", "/boxes/new", {**NEW_BOX, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(db.select(Box).order_by(Box.id.desc())).first()


def put(client, box, *numbers):
    return post_form(client, f"/boxes/{box.id}", f"/boxes/{box.id}/documents", {"archive_numbers": "\n".join(numbers)})


def test_a_box_is_created_filled_and_moved_and_its_documents_show_where_they_now_are(client, factory, archivist):
    dossier = factory.dossier()
    first, second = paper(factory, dossier, "认购书"), paper(factory, dossier, "排号协议")
    login(client, factory, archivist)

    box = create_box(client)
    assert (box.code, box.floor, box.room, box.shelf) == ("QZ01-H-0001", 3, "档案室301", "A-02")
    response = put(client, box, first.archive_number, second.archive_number)
    assert response.status_code == 302
    page = client.get(f"/boxes/{box.id}").get_data(as_text=True)
    assert first.archive_number in page and second.archive_number in page and "3F / 档案室301 / QZ01-H-0001 / A-02" in page

    document_page = client.get(f"/documents/{first.id}").get_data(as_text=True)
    assert "档案室301 / QZ01-H-0001 / A-02" in document_page
    assert "临时库房" not in document_page  # the place written at filing is left behind

    response = post_form(client, f"/boxes/{box.id}", f"/boxes/{box.id}/move",
                         {"floor": "5", "room": "密集架库房502", "shelf": "C-11"})
    assert response.status_code == 302
    for document in (first, second):
        document_page = client.get(f"/documents/{document.id}").get_data(as_text=True)
        assert "密集架库房502 / QZ01-H-0001 / C-11" in document_page
        assert "档案室301" not in document_page

    (created,) = audit_events("box.create")
    assert created.actor_id == archivist.id and json.loads(created.details)["code"] == "QZ01-H-0001"
    put_events = audit_events("box.put")
    assert [e.object_id for e in put_events] == [str(first.id), str(second.id)]
    assert json.loads(put_events[0].details)["old"] == "临时库房 / 待上架"
    assert json.loads(put_events[0].details)["new"] == "3F / 档案室301 / QZ01-H-0001 / A-02"
    (moved,) = audit_events("box.move")
    assert json.loads(moved.details) == {"code": "QZ01-H-0001", "old": "3F / 档案室301 / QZ01-H-0001 / A-02",
                                        "new": "5F / 密集架库房502 / QZ01-H-0001 / C-11"}


def test_a_document_taken_out_has_no_place_until_it_goes_into_another_box(client, factory, archivist):
    dossier = factory.dossier()
    document = paper(factory, dossier, "认购书")
    login(client, factory, archivist)
    first_box = create_box(client)
    second_box = create_box(client, code="QZ01-H-0002", room="档案室302", shelf="B-01")
    put(client, first_box, document.archive_number)

    # Into another box: it leaves the first one.
    assert put(client, second_box, document.archive_number).status_code == 302
    assert f'href="/documents/{document.id}"' not in client.get(f"/boxes/{first_box.id}").get_data(as_text=True)
    assert json.loads(audit_events("box.put")[-1].details)["old"] == "3F / 档案室301 / QZ01-H-0001 / A-02"

    response = post_form(client, f"/boxes/{second_box.id}",
                         f"/boxes/{second_box.id}/documents/{document.id}/remove", {})
    assert response.status_code == 302
    assert f'href="/documents/{document.id}"' not in client.get(f"/boxes/{second_box.id}").get_data(as_text=True)
    document_page = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert "档案室302" not in document_page and "QZ01-H-0002" not in document_page
    (taken,) = audit_events("box.take_out")
    assert json.loads(taken.details)["old"] == "3F / 档案室302 / QZ01-H-0002 / B-01"
    assert json.loads(taken.details)["new"] == ""

    # Taking out what is not in the box answers as a missing page.
    response = post_form(client, f"/boxes/{second_box.id}",
                         f"/boxes/{second_box.id}/documents/{document.id}/remove", {})
    assert response.status_code == 404


def test_only_paper_documents_the_archivist_may_read_go_in_and_one_refusal_puts_none_in(
        app, client, factory, archivist, c_archivist):
    dossier = factory.dossier()
    boxed = paper(factory, dossier, "认购书")
    electronic = factory.document(dossier, title="电子签约确认书")
    secret = paper(factory, dossier, "折扣审批表", level=Level.B)
    login(client, factory, archivist)
    box = create_box(client)

    client = logged_in(app, factory, c_archivist)
    response = put(client, box, boxed.archive_number, electronic.archive_number, secret.archive_number,
                   "QZ01-NOPE-0001")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"{electronic.archive_number} is an electronic document" in page
    # A document the archivist may not read answers exactly like a number that does not exist.
    assert f"No document you may read has the archive number {secret.archive_number}." in page
    assert "No document you may read has the archive number QZ01-NOPE-0001." in page
    assert "折扣审批表" not in page
    db.session.expire_all()
    assert boxed.box_id is None and not audit_events("box.put")


def test_a_box_lists_and_counts_only_the_documents_its_reader_may_read(app, client, factory, archivist, c_archivist):
    dossier = factory.dossier()
    ordinary = paper(factory, dossier, "认购书")
    secret = paper(factory, dossier, "折扣审批表", level=Level.B)
    login(client, factory, archivist)
    box = create_box(client)
    put(client, box, ordinary.archive_number, secret.archive_number)
    listing = client.get("/boxes/").get_data(as_text=True)
    assert "<td>2</td>" in listing

    client = logged_in(app, factory, c_archivist)
    page = client.get(f"/boxes/{box.id}").get_data(as_text=True)
    assert ordinary.archive_number in page
    assert secret.archive_number not in page and "折扣审批表" not in page
    listing = client.get("/boxes/").get_data(as_text=True)
    assert "QZ01-H-0001" in listing and "<td>1</td>" in listing and "<td>2</td>" not in listing


def test_box_codes_are_unique_and_well_formed(client, factory, archivist):
    login(client, factory, archivist)
    create_box(client)
    response = post_form(client, "/boxes/new", "/boxes/new", NEW_BOX)
    assert response.status_code == 400
    assert "A box with code QZ01-H-0001 already exists." in response.get_data(as_text=True)
    response = post_form(client, "/boxes/new", "/boxes/new", {**NEW_BOX, "code": "盒 1"})
    assert response.status_code == 400
    assert "use letters and digits joined by" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Box.id))) == 1


def test_a_clerk_keeps_no_boxes(app, client, factory, archivist):
    clerk = factory.user("sales-clerk", roles=(Role.CLERK,), department="SALES", clearance=Level.A)
    dossier = factory.dossier()
    document = paper(factory, dossier, "认购书")
    login(client, factory, archivist)
    box = create_box(client)
    put(client, box, document.archive_number)
    token_page = f"/documents/{document.id}"  # a page of theirs that carries a CSRF token

    client = logged_in(app, factory, clerk)
    assert client.get("/boxes/").status_code == 403
    assert client.get("/boxes/new").status_code == 403
    assert post_form(client, token_page, "/boxes/new", {**NEW_BOX, "code": "CLERK-1"}).status_code == 403
    # A box is an object they may not see: it answers as missing, and nothing changes.
    assert client.get(f"/boxes/{box.id}").status_code == 404
    assert client.get(f"/boxes/{box.id}/label.pdf").status_code == 404
    assert post_form(client, token_page, f"/boxes/{box.id}/move",
                     {"floor": "1", "room": "走廊", "shelf": "地上"}).status_code == 404
    assert post_form(client, token_page, f"/boxes/{box.id}/documents/{document.id}/remove", {}).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Box.id))) == 1
    assert (box.room, document.box_id) == ("档案室301", box.id)
    assert "走廊" not in client.get(token_page).get_data(as_text=True)

"""The retention pages over HTTP with CSRF: appraisal, proposal, approval, witnesses, register, refusals."""
from __future__ import annotations

import re

from archive.retention.models import Disposal
from archive.extensions import db
from tests.factories import csrf_token
from tests.retention.conftest import repair_order


def _log_in(client, factory, user):
    assert factory.login(client, user).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/account")})


def test_a_disposal_walks_through_the_pages_and_the_content_is_gone(app, factory, people):
    client = app.test_client()
    dossier = factory.dossier()
    order = repair_order(factory, dossier)
    _log_in(client, factory, people.archivist)

    page = client.get("/retention/appraisal?year=2026").get_data(as_text=True)
    assert order.archive_number in page
    token = csrf_token(client, "/retention/appraisal")
    assert client.post("/retention/disposals/new", data={"document_id": order.id, "reason": "保管期满"}).status_code == 400
    proposed = client.post("/retention/disposals/new",
                           data={"document_id": order.id, "reason": "保管期满", "csrf_token": token})
    assert proposed.status_code == 302
    disposal = db.session.query(Disposal).one()
    path = f"/retention/disposals/{disposal.id}"

    clients = {}
    for name in ("head", "compliance", "second_archivist"):
        clients[name] = app.test_client()
        _log_in(clients[name], factory, getattr(people, name))
    head, witness_1, witness_2 = clients["head"], clients["compliance"], clients["second_archivist"]
    # The proposer may not approve, nor witness: each refusal is shown with its reason.
    assert client.post(f"{path}/approve", data={"csrf_token": csrf_token(client, path)}).status_code == 404
    assert head.post(f"{path}/approve", data={"csrf_token": csrf_token(head, path)}).status_code == 302
    self_witnessing = client.post(f"{path}/witness", data={"csrf_token": csrf_token(client, path)})
    assert self_witnessing.status_code == 400 and "cannot witness it" in self_witnessing.get_data(as_text=True)
    assert witness_1.post(f"{path}/witness", data={"csrf_token": csrf_token(witness_1, path)}).status_code == 302
    twice = witness_1.post(f"{path}/witness", data={"csrf_token": csrf_token(witness_1, path)})
    assert twice.status_code == 400 and "a second, different witness" in twice.get_data(as_text=True)
    assert witness_2.post(f"{path}/witness", data={"csrf_token": csrf_token(witness_2, path)}).status_code == 302

    register = witness_2.get(f"{path}/register.pdf")
    assert register.status_code == 200 and register.data.startswith(b"%PDF")
    gone = client.get(f"/documents/{order.id}/download")
    assert gone.status_code == 410 and "was disposed of on" in gone.get_data(as_text=True)
    assert client.get(f"/documents/{order.id}/preview").status_code == 410
    document_page = client.get(f"/documents/{order.id}").get_data(as_text=True)
    assert "Disposed of (已销毁)" in document_page and f"/documents/{order.id}/download" not in document_page
    assert re.search(r"Disposed of \(已销毁\) \d{4}-\d\d-\d\d", client.get(f"/dossiers/{dossier.id}").get_data(as_text=True))


def test_only_an_archive_head_lengthens_the_schedule_and_never_shortens_it(app, factory, people):
    client = app.test_client()
    _log_in(client, factory, people.head)
    token = csrf_token(client, "/retention/schedule")
    shorter = client.post("/retention/schedule", data={"category": "RH", "retention": "D10", "csrf_token": token},
                          follow_redirects=True)
    assert "can only be lengthened" in shorter.get_data(as_text=True)
    longer = client.post("/retention/schedule", data={"category": "WX", "retention": "D30", "csrf_token": token},
                         follow_redirects=True)
    assert "The schedule is saved." in longer.get_data(as_text=True)
    archivist = app.test_client()
    _log_in(archivist, factory, people.archivist)
    refused = archivist.post("/retention/schedule", data={"category": "WX", "retention": "Y",
                                                          "csrf_token": csrf_token(archivist, "/retention/schedule")})
    assert refused.status_code == 403

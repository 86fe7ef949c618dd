from tests.factories import PASSWORD


def test_login_and_file_and_download(client, factory):
    archivist = factory.archivist
    dossier = factory.dossier()
    doc = factory.document(dossier)
    response = factory.login(client, archivist)
    assert response.status_code == 302
    page = client.get(f"/documents/{doc.id}")
    assert page.status_code in (200, 404)

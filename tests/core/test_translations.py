"""Every label, message and error of the UI is translated into Chinese, and the compiled catalogue is current."""
import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.documents.conftest import upload
from tests.factories import csrf_token, make_pdf

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "archive" / "translations" / "zh_Hans" / "LC_MESSAGES"
# Service errors carry their untranslated message as first argument; it is translated when shown.
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
    "ValidationError": None, "NotFound": None, "Conflict": None, "ArchiveError": None, "N_": None, "CalendarNotCovered": None,
    "Gone": None,
}


def _source_messages() -> set[str]:
    found = set()
    for source, method in (("archive", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / source, method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue():
    with open(CATALOGUE / "messages.po", "rb") as fh:
        return read_po(fh, locale="zh_Hans")


def test_every_source_message_has_a_chinese_translation():
    catalogue = _catalogue()
    missing = sorted(m for m in _source_messages() if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == [], f"untranslated: {missing[:20]}"


def test_compiled_catalogue_matches_the_po_file():
    compiled = io.BytesIO()
    write_mo(compiled, _catalogue())
    assert (CATALOGUE / "messages.mo").read_bytes() == compiled.getvalue(), "run scripts/translations compile"


def test_pages_speak_chinese_by_default_and_english_on_request(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Log in" in english


def test_a_refused_batch_names_each_file_in_the_readers_language(client, factory):
    dossier = factory.dossier()
    assert factory.login(client, factory.archivist).status_code == 302
    files = [(b"", "空白.pdf"), (b"%PDF-1.7 garbage", "坏文件.pdf"), (make_pdf("认购书"), "认购书.pdf")]

    chinese = upload(client, dossier.id, files).get_data(as_text=True)
    assert "有 2 个文件未通过检查，本批文件均未归档。 空白.pdf：文件为空。 坏文件.pdf：该 PDF 已损坏，无法读取。" in chinese

    choose_english = client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/account")})
    assert choose_english.status_code == 302
    english = upload(client, dossier.id, files).get_data(as_text=True)
    assert ("2 files were refused, nothing was filed. 空白.pdf: the file is empty. "
            "坏文件.pdf: the PDF is damaged and cannot be read.") in english

"""Every label, message and error of the UI is translated into Chinese, and the compiled catalogue is current."""
import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "archive" / "translations" / "zh_Hans" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


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

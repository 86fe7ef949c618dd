"""The watermarked rendition: every page of a PDF or a scan names the reader, the loan and the time, in Chinese
that renders, over the original content."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from archive.core.errors import ValidationError
from archive.core.keys import blob_store
from archive.loans.rendition import watermarked_rendition
from archive.reports.fonts import cjk_font
from tests.factories import make_image, make_pdf

BORROWER, DEPARTMENT, NUMBER, TIME = "王小明", "销售部", "JY-2026-00012", "2026-11-22 21:48"
LINES = [f"{BORROWER} · {DEPARTMENT}", f"借阅 {NUMBER} · {TIME}"]
FOOTER = "    ".join(LINES)  # the small clear line at the bottom margin
LOOK_AT = Path("/tmp/loans-rendition.png")  # kept for a human to look at


def render(data: bytes, media_type: str) -> bytes:
    out = watermarked_rendition(io.BytesIO(data), media_type, LINES)
    assert out.tell() == 0
    with out:
        return out.read()


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def assert_watermarked(text: str) -> None:
    for part in (BORROWER, DEPARTMENT, NUMBER, TIME):
        assert part in text
    assert FOOTER in text


def png_of_page(pdf: bytes, tmp_path: Path, page: int = 1) -> Image.Image:
    """The page as a viewer shows it: its crop box, turned by its rotation."""
    source = tmp_path / f"render-{len(list(tmp_path.iterdir()))}.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / source.stem
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-cropbox", "-f", str(page), "-l", str(page), "-singlefile",
                    str(source), str(prefix)], check=True)
    return Image.open(f"{prefix}.png").convert("L")


def count(image: Image.Image, box: tuple[int, int, int, int], low: int, high: int) -> int:
    """Pixels of the region whose grey value lies in [low, high]."""
    histogram = image.crop(box).histogram()
    return sum(histogram[low : high + 1])


def test_every_page_of_a_chinese_pdf_is_watermarked_and_keeps_its_text():
    original = make_pdf("房地产买卖合同", "押金 人民币 5,000 元", pages=3)
    pdf = render(original, "application/pdf")
    texts = page_texts(pdf)
    assert len(texts) == 3
    for number, text in enumerate(texts, start=1):
        assert_watermarked(text)
        assert "房地产买卖合同" in text and "押金 人民币 5,000 元" in text
        assert f"第 {number} 页" in text


def test_the_watermark_is_drawn_where_the_page_was_blank(tmp_path):
    original = make_pdf("房地产买卖合同", pages=3)
    before = png_of_page(original, tmp_path)
    after = png_of_page(render(original, "application/pdf"), tmp_path, page=3)
    after.save(LOOK_AT)
    width, height = after.size
    middle = (0, height // 4, width, 3 * height // 4)  # the sample page has no text here
    bottom = (0, height - 12, width, height)  # the small clear line, below the page number
    assert count(before, middle, 0, 250) == 0 and count(before, bottom, 0, 250) == 0
    # Semi-transparent grey diagonal text over a good part of the middle, nothing black there.
    assert count(after, middle, 150, 245) > 0.03 * width * (height // 2)
    assert count(after, middle, 0, 200) == 0
    # Dark small text in the bottom margin (the diagonal text is never darker than 224).
    assert count(after, bottom, 0, 200) > 60


def test_a_jpeg_scan_becomes_one_watermarked_page_sized_by_its_resolution():
    scan = Image.new("RGB", (1240, 1754), (250, 248, 240))
    buffer = io.BytesIO()
    scan.save(buffer, format="JPEG", dpi=(150, 150))
    pdf = render(buffer.getvalue(), "image/jpeg")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # 1240 x 1754 px at 150 dpi
    assert_watermarked(reader.pages[0].extract_text())
    # The JPEG itself is in the page, not decoded and re-encoded.
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    assert [xobjects[name].get_object().get_data() for name in xobjects] == [buffer.getvalue()]


def test_a_scan_without_resolution_fits_a4():
    pdf = render(make_image("JPEG", size=(200, 280)), "image/jpeg")
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    width, height = float(box.width), float(box.height)
    assert width <= A4[0] + 0.01 and height <= A4[1] + 0.01
    assert max(width / A4[0], height / A4[1]) == pytest.approx(1, abs=1e-3)
    assert width / height == pytest.approx(200 / 280, rel=1e-3)


def test_each_frame_of_a_tiff_becomes_a_watermarked_page(tmp_path):
    pdf = render(make_image("TIFF", size=(300, 420), frames=2), "image/tiff")
    texts = page_texts(pdf)
    assert len(texts) == 2
    for text in texts:
        assert_watermarked(text)
    # The second frame's own colour (255, 255, 215) is on the second page, under the watermark.
    rgb = png_of_page(pdf, tmp_path, page=2)
    assert count(rgb, (0, 0, rgb.width, rgb.height), 240, 252) > 0.5 * rgb.width * rgb.height


def test_a_bilevel_png_scan_is_watermarked():
    scan = Image.new("1", (850, 1100), 1)
    buffer = io.BytesIO()
    scan.save(buffer, format="PNG", dpi=(100, 100))
    pdf = render(buffer.getvalue(), "image/png")
    reader = PdfReader(io.BytesIO(pdf))
    assert [round(float(v)) for v in reader.pages[0].mediabox] == [0, 0, 612, 792]  # US Letter at 100 dpi
    assert_watermarked(reader.pages[0].extract_text())


def test_a_phone_photo_is_turned_upright_by_its_exif_orientation():
    photo = Image.new("RGB", (400, 300), (200, 200, 200))  # stored landscape ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... to be shown turned 90° clockwise, i.e. portrait
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", exif=exif.tobytes())
    box = PdfReader(io.BytesIO(render(buffer.getvalue(), "image/jpeg"))).pages[0].mediabox
    assert float(box.height) > float(box.width)


def test_a_transparent_png_lies_on_white_paper(tmp_path):
    drawing = Image.new("RGBA", (600, 800), (0, 0, 0, 0))  # fully transparent black
    drawing.paste((20, 20, 20, 255), (100, 100, 500, 140))  # one dark bar
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    page = png_of_page(render(buffer.getvalue(), "image/png"), tmp_path)
    whole = (0, 0, page.width, page.height)
    assert count(page, whole, 0, 60) < 0.05 * page.width * page.height  # the bar, not a black page
    assert count(page, whole, 0, 60) > 0


def _odd_page(rotation: int, media: tuple, crop: tuple | None) -> bytes:
    """A one-page PDF with a rotation and page boxes as scanners and editors leave them."""
    left, bottom, right, top = media
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(right - left, top - bottom))
    pdf.setFont(cjk_font(), 14)
    pdf.drawCentredString((left + right) / 2, (bottom + top) / 2, "不动产权证书")
    pdf.showPage()
    pdf.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    page = writer.pages[0]
    page.mediabox = RectangleObject(media)
    if crop:
        page.cropbox = RectangleObject(crop)
    page.rotate(rotation)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("rotation", "media", "crop", "landscape"),
    [
        (90, (0, 0, 800, 1000), (100, 50, 700, 950), True),
        (270, (0, 0, 595, 842), None, True),
        (180, (-300, -400, 295, 442), None, False),
        (0, (0, 0, 842, 595), (40, 30, 800, 560), True),
        (-90, (20, 20, 615, 862), None, True),
    ],
)
def test_rotated_pages_and_odd_boxes_get_the_footer_at_the_bottom_as_displayed(tmp_path, rotation, media, crop,
                                                                                landscape):
    pdf = render(_odd_page(rotation, media, crop), "application/pdf")
    (text,) = page_texts(pdf)
    assert_watermarked(text)
    assert "不动产权证书" in text
    page = png_of_page(pdf, tmp_path)
    width, height = page.size
    assert (width > height) is landscape
    band = 10  # pixels; the footer sits within the last few points of the page
    assert count(page, (0, height - band, width, height), 0, 200) > 60  # the dark small line at the bottom
    for edge in ((0, 0, width, band), (0, 0, band, height), (width - band, 0, width, height)):
        assert count(page, edge, 0, 200) == 0  # and not along another edge
    assert count(page, (0, band, width, height - band), 150, 245) > 0.02 * width * height  # diagonal text


def test_the_real_decrypting_stream_of_a_filed_document(factory):
    """The caller hands over the plaintext stream from the encrypted store, which cannot seek."""
    document = factory.document(factory.dossier(), title="房屋交接书",
                                content=make_pdf("房屋交接书", "钥匙 3 把", pages=2))
    version = document.current_version
    with blob_store().open(version.blob_id, version.key_id, version.wrapped_key) as plain:
        assert not plain.seekable()
        rendition = watermarked_rendition(plain, version.media_type, LINES)
    with rendition:
        texts = page_texts(rendition.read())
    assert len(texts) == 2
    for text in texts:
        assert_watermarked(text)
        assert "钥匙 3 把" in text


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (make_pdf("合同")[:400], "application/pdf"),
        (b"%PDF-1.7\n this is not a PDF", "application/pdf"),
        (make_image("TIFF", frames=2)[:300], "image/tiff"),
        (make_image("PNG")[:200], "image/png"),
    ],
)
def test_a_damaged_file_is_refused_with_a_clear_message(data, media_type):
    with pytest.raises(ValidationError) as raised:
        watermarked_rendition(io.BytesIO(data), media_type, LINES)
    assert raised.value.message == "This file cannot be shown with a watermark. Ask the archive for help."

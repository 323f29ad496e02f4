"""Unit tests of the emulator's text extraction (kimi_gateway.emulator.extract), one per format."""

from __future__ import annotations

import io
import zipfile

import pytest
from fpdf import FPDF

from kimi_gateway.emulator.extract import ExtractedText, ExtractionError, extract_text
from kimi_gateway.emulator.extract_office import DOCX_MIME, PPTX_MIME

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"


def make_pdf(*pages: str, encrypt: bool = False) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.cell(text=text)
        else:
            pdf.rect(10, 10, 50, 50)  # a page with drawing only, no text layer
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password="user")
    return bytes(pdf.output())


def make_docx(*paragraphs: str) -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    body += "<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t></w:r></w:p>"
    xml = f'<?xml version="1.0"?><w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>'
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": xml})


def make_pptx(*slides: tuple[str, ...]) -> bytes:
    ns = "http://schemas.openxmlformats.org/drawingml/2006/main"
    parts = {"[Content_Types].xml": "<Types/>"}
    for number, lines in enumerate(slides, start=1):
        paras = "".join(f"<a:p><a:r><a:t>{line}</a:t></a:r></a:p>" for line in lines)
        parts[f"ppt/slides/slide{number}.xml"] = (
            f'<p:sld xmlns:a="{ns}" xmlns:p="x">{paras}</p:sld>'
        )
    return _zip(parts)


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "text", "mime"),
    [
        ("notes.txt", b"one\r\ntwo\rthree\n", "one\ntwo\nthree\n", "text/plain"),
        ("bom.txt", b"\xef\xbb\xbfhello", "hello", "text/plain"),
        ("utf16.txt", "héllo 月".encode("utf-16"), "héllo 月", "text/plain"),
        ("README.md", b"# Title\n\n- item\n", "# Title\n\n- item\n", "text/markdown"),
        ("data.json", b'{"a": [1, 2]}', '{"a": [1, 2]}', "application/json"),
        ("table.csv", b"name,age\r\nann,3\r\n", "name,age\nann,3\n", "text/csv"),
        ("server.log", b"INFO start\nWARN slow\n", "INFO start\nWARN slow\n", "text/plain"),
        ("main.py", b"print('hi')\n", "print('hi')\n", "text/plain"),
        ("App.tsx", b"export const a = 1;\n", "export const a = 1;\n", "text/plain"),
        ("config.yaml", b"a: 1\n", "a: 1\n", "application/yaml"),
        ("upload", "无扩展名 text".encode(), "无扩展名 text", "text/plain"),
        ("weird.xyz", b"plain words", "plain words", "text/plain"),
    ],
)
def test_text_formats_are_decoded_whole(filename: str, data: bytes, text: str, mime: str) -> None:
    assert extract_text(filename, data) == ExtractedText(text, mime)


def test_html_keeps_visible_text_only() -> None:
    markup = b"""<!DOCTYPE html><html><head><title>Doc &amp; Title</title>
      <style>p { color: red }</style><script>var x = "<p>hidden</p>";</script></head>
      <body><h1>Heading</h1><p>First   para with <b>bold</b>
      and a line break<br>here.</p><noscript>no js</noscript>
      <ul><li>one</li><li>two &lt;3</li></ul>
      <table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>
      <pre>x = 1
y = 2</pre></body></html>"""
    assert extract_text("page.HTML", markup) == ExtractedText(
        "Doc & Title\nHeading\nFirst para with bold and a line break\nhere.\none\ntwo <3\n"
        "k\tv\na\t1\nx = 1\ny = 2",
        "text/html",
    )


def test_pdf_text_of_every_page() -> None:
    data = make_pdf("Hello PDF world", "Second page text")
    assert extract_text("report.pdf", data) == ExtractedText(
        "Hello PDF world\nSecond page text", "application/pdf"
    )


def test_pdf_is_recognised_by_magic_without_extension() -> None:
    assert extract_text("upload", make_pdf("Sniffed")) == ExtractedText(
        "Sniffed", "application/pdf"
    )


def test_docx_paragraphs() -> None:
    data = make_docx("First paragraph", "Second one")
    assert extract_text("letter.docx", data) == ExtractedText(
        "First paragraph\nSecond one\na\tb\nc", DOCX_MIME
    )


def test_pptx_slides_in_order() -> None:
    slides = [(f"Slide {n}", f"point {n}") for n in range(1, 12)]
    expected = "\n\n".join(f"Slide {n}\npoint {n}" for n in range(1, 12))
    assert extract_text("deck.pptx", make_pptx(*slides)) == ExtractedText(expected, PPTX_MIME)


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("photo.png", PNG_HEADER, "unsupported file type: .png"),
        ("upload", PNG_HEADER, "unsupported file type: binary data"),
        ("archive.zip", _zip({"a.txt": "x"}), "unsupported file type: .zip"),
        ("bad.txt", b"caf\xe9", "file is not valid UTF-8 text (byte 3)"),
        ("nul.txt", b"a\x00b", "file looks binary, not text"),
        ("broken.pdf", b"%PDF-1.4 garbage", "cannot read pdf: Stream has ended unexpectedly"),
        ("scan.pdf", make_pdf(""), "no text found in pdf (OCR is not emulated)"),
        ("locked.pdf", make_pdf("secret", encrypt=True), "pdf is encrypted"),
        ("bad.docx", b"not a zip", "not an Office Open XML file: File is not a zip file"),
        ("empty.docx", _zip({"x.xml": "<a/>"}), "missing part word/document.xml"),
        ("empty.pptx", _zip({"x.xml": "<a/>"}), "not a pptx file: no slides"),
        (
            "bad.docx",
            _zip({"word/document.xml": "<w:document"}),
            "cannot parse word/document.xml: unclosed token: line 1, column 0",
        ),
    ],
)
def test_unreadable_files_raise_extraction_error(filename: str, data: bytes, message: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_text(filename, data)
    assert str(caught.value) == message

"""Text from Office Open XML uploads (.docx, .pptx) for the emulator (docs/kimi.md §9).

What belongs here: reading the zipped XML parts of Word and PowerPoint files with the standard
library only. Kimi lists doc(x) and ppt(x) among its extract formats [O] DOCS-OLD; the legacy
binary .doc/.ppt and spreadsheets are not read by the emulator (they fail as unsupported).
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_SLIDE_PART = re.compile(r"ppt/slides/slide(\d+)\.xml")


class OfficeError(Exception):
    """The bytes are not a readable .docx/.pptx; `extract.py` turns this into ExtractionError."""


def docx_text(data: bytes) -> str:
    """Paragraph texts of `word/document.xml`, one per line (tabs and breaks kept)."""
    root = _xml_part(data, "word/document.xml")
    lines = []
    for paragraph in root.iter(f"{_W}p"):
        pieces = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t":
                pieces.append(node.text or "")
            elif node.tag == f"{_W}tab":
                pieces.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                pieces.append("\n")
        lines.append("".join(pieces))
    return "\n".join(lines).strip()


def pptx_text(data: bytes) -> str:
    """Paragraph texts of every slide in slide order, slides separated by a blank line."""
    archive = _open_zip(data)
    numbered = []
    for name in archive.namelist():
        match = _SLIDE_PART.fullmatch(name)
        if match:
            numbered.append((int(match.group(1)), name))
    if not numbered:
        raise OfficeError("not a pptx file: no slides")
    slides = []
    for _, name in sorted(numbered):
        root = _parse(archive.read(name), name)
        paragraphs = ["".join(t.text or "" for t in p.iter(f"{_A}t")) for p in root.iter(f"{_A}p")]
        slides.append("\n".join(line for line in paragraphs if line))
    return "\n\n".join(slides).strip()


def _xml_part(data: bytes, name: str) -> ElementTree.Element:
    archive = _open_zip(data)
    try:
        raw = archive.read(name)
    except KeyError:
        raise OfficeError(f"missing part {name}") from None
    return _parse(raw, name)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise OfficeError(f"not an Office Open XML file: {exc}") from exc


def _parse(raw: bytes, name: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise OfficeError(f"cannot parse {name}: {exc}") from exc

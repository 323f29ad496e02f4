"""Text extraction for the emulator's `file-extract` uploads (docs/kimi.md §9).

What belongs here: pure functions from (filename, bytes) to extracted text plus a MIME type, and
the error raised when a file cannot be read. Nothing here knows about HTTP, the file store or
Kimi's error envelope; `files.py` turns `ExtractionError` into Kimi's `status: "error"` and
`Failed to extract file: {error}` (docs/kimi.md §2.2).

Kimi extracts pdf, txt, csv, doc(x), xls(x), ppt(x), md, images (OCR), epub, html, json, mobi,
log and many source-code extensions [O] DOCS-OLD. The emulator covers the text formats, HTML,
PDF (via pypdf) and docx/pptx (see `extract_office.py`); it cannot OCR, so images, image-only
PDFs and other binaries fail the way "an image with no text fails to parse" [O] HC.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath

from pypdf import PdfReader

from kimi_gateway.emulator.extract_office import (
    DOCX_MIME,
    PPTX_MIME,
    OfficeError,
    docx_text,
    pptx_text,
)


class ExtractionError(Exception):
    """The file cannot be turned into text; the message is Kimi's `{error}` placeholder."""


@dataclass(frozen=True)
class ExtractedText:
    """The text Kimi would put in the `content` field, and the `file_type` it reports."""

    text: str
    mime: str


# Extension → MIME for files whose bytes are plain text. Only `application/pdf` is seen in a
# capture (docs/kimi.md §9); the others are the usual IANA names, an emulator choice.
_TEXT_MIMES: dict[str, str] = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".xml": "application/xml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
}

# Source-code extensions Kimi reads as text ("many source-code extensions" [O] DOCS-OLD).
# fmt: off
_CODE_EXTENSIONS = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt",
    ".kts", ".scala", ".go", ".rs", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp",
    ".hh", ".cs", ".m", ".mm", ".swift", ".rb", ".php", ".pl", ".pm", ".lua",
    ".r", ".sh", ".bash", ".zsh", ".ps1", ".bat", ".sql", ".css", ".scss", ".less",
    ".vue", ".svelte", ".dart", ".ex", ".exs", ".erl", ".hs", ".clj", ".groovy", ".gradle",
    ".toml", ".ini", ".cfg", ".conf", ".properties", ".env", ".proto", ".graphql", ".tex", ".rst",
    ".asciidoc", ".adoc", ".ipynb",
})
# fmt: on

_HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})
_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"


def extract_text(filename: str, data: bytes) -> ExtractedText:
    """Extract the text of one uploaded file, choosing the reader by extension, then by magic.

    Raises `ExtractionError` when the bytes cannot be read as the format they claim, or when they
    are a binary format the emulator does not read (images, audio, archives, ...).
    """
    ext = PurePosixPath(filename.lower()).suffix
    if ext == ".pdf" or (ext not in _TEXT_MIMES and data.startswith(_PDF_MAGIC)):
        return ExtractedText(pdf_text(data), "application/pdf")
    if ext in _HTML_EXTENSIONS:
        return ExtractedText(html_text(decode_text(data)), "text/html")
    if ext in (".docx", ".pptx"):
        return _office(ext, data)
    if ext in _TEXT_MIMES:
        return ExtractedText(decode_text(data), _TEXT_MIMES[ext])
    if ext in _CODE_EXTENSIONS:
        return ExtractedText(decode_text(data), "text/plain")
    if data.startswith(_ZIP_MAGIC):
        raise ExtractionError(f"unsupported file type: {ext or 'zip archive'}")
    # Unknown extension (or none: the server names such uploads "upload", §9): accept it when
    # the bytes are text, the way a plain-text sniffer would.
    try:
        return ExtractedText(decode_text(data), "text/plain")
    except ExtractionError:
        raise ExtractionError(f"unsupported file type: {ext or 'binary data'}") from None


def _office(ext: str, data: bytes) -> ExtractedText:
    try:
        if ext == ".docx":
            return ExtractedText(docx_text(data), DOCX_MIME)
        return ExtractedText(pptx_text(data), PPTX_MIME)
    except OfficeError as exc:
        raise ExtractionError(str(exc)) from exc


def decode_text(data: bytes) -> str:
    """Decode text bytes (UTF-8, or UTF-16 with a BOM) and normalise line endings to `\\n`.

    NUL characters mark binary data: a text file never holds them, a PNG or a zip always does.
    """
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"file is not valid UTF-8 text (byte {exc.start})") from exc
    if "\x00" in text:
        raise ExtractionError("file looks binary, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF, pages joined by newlines.

    A PDF with no text layer (a scan) would go through OCR on Kimi [O] HC; the emulator has no
    OCR, so it fails like an image with no text.
    """
    # pypdf raises many kinds of exception on damaged input (PyPdfError, ValueError, KeyError,
    # struct errors, ...); every one of them means "this PDF cannot be read".
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = [] if encrypted else [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:
        raise ExtractionError(f"cannot read pdf: {exc}") from exc
    if encrypted:
        raise ExtractionError("pdf is encrypted")
    text = "\n".join(page.strip() for page in pages).strip()
    if not text:
        raise ExtractionError("no text found in pdf (OCR is not emulated)")
    return text


# Elements whose text a reader never sees.
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})
# Elements that start a new line of text when rendered.
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
    "tbody", "thead", "tfoot", "tr", "td", "th", "title", "ul",
})
# fmt: on


class _HtmlTextParser(HTMLParser):
    """Collects visible text; block elements end the current line (cells are tab-separated)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._pre_depth += 1
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS and tag not in ("td", "th"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        text = data.replace("\t", " ")
        # Source line breaks are mere spaces in HTML, except inside <pre>.
        self.parts.append(text if self._pre_depth else text.replace("\n", " "))


def html_text(markup: str) -> str:
    """Visible text of an HTML document: tags dropped, script/style skipped, entities decoded.

    Whitespace is collapsed within each line and blank lines are dropped, so the result is stable
    whatever the source indentation.
    """
    parser = _HtmlTextParser()
    parser.feed(markup)
    parser.close()
    lines = []
    for raw_line in "".join(parser.parts).split("\n"):
        cells = [" ".join(cell.split()) for cell in raw_line.split("\t")]
        line = "\t".join(cell for cell in cells if cell)
        if line:
            lines.append(line)
    return "\n".join(lines)

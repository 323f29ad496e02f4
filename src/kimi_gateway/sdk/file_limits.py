"""Kimi's Files API limits and types, checked before an upload so a mistake is a clear local
error, not a half-sent 100 MB body (docs/kimi.md §9).

Limits [O] CB, DOCS-OLD, HC: 100 MB per file, 1000 files and 10 GB per account; an empty file is
refused. Document types Kimi extracts (``file-extract``) [O] DOCS-OLD: pdf, txt, csv, doc(x),
xls(x), ppt(x), md, images (OCR), epub, html, json, mobi, log and source code; a file of another
extension is accepted only when its bytes are text. Images and video go up with purpose
``image`` / ``video`` and are used as ``ms://`` references (§9), on models that take them
(profiles.py ``image_input`` / ``video_input``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import Any, Literal

from kimi_gateway.core.errors import GatewayError

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_FILES = 1000
MAX_TOTAL_BYTES = 10 * 1024 * 1024 * 1024

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".webm", ".mkv", ".avi", ".mpeg", ".mpg"})
# fmt: off
DOCUMENT_EXTENSIONS = frozenset({
    ".pdf", ".txt", ".text", ".csv", ".tsv", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
    ".md", ".markdown", ".epub", ".html", ".htm", ".xhtml", ".json", ".jsonl", ".mobi", ".log",
    ".xml", ".yaml", ".yml", ".rtf", ".tex", ".rst", ".ini", ".toml", ".cfg", ".conf",
    ".py", ".js", ".ts", ".tsx", ".jsx", ".java", ".kt", ".go", ".rs", ".c", ".h", ".cc",
    ".cpp", ".hpp", ".cs", ".swift", ".rb", ".php", ".pl", ".lua", ".r", ".sh", ".sql", ".css",
    ".scss", ".vue", ".dart", ".scala", ".ipynb",
})
# fmt: on
_SNIFF_BYTES = 8192

Kind = Literal["document", "image", "video"]


class FileLimitError(GatewayError):
    """A file Kimi would refuse (size, count, type), found before uploading it."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_request", message, param="file")


def kind_of(path: PurePath) -> Kind:
    ext = path.suffix.lower()
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return "document"


def check_size(path: PurePath, size: int) -> None:
    """Kimi's per-file size limits (checked before the file is read)."""
    if size == 0:
        raise FileLimitError(f"{path.name} is empty; Kimi does not accept empty files")
    if size > MAX_FILE_BYTES:
        raise FileLimitError(
            f"{path.name} is {size} bytes; Kimi accepts at most {MAX_FILE_BYTES} bytes "
            "(100 MB) per file"
        )


def check_type(path: PurePath, data: bytes, kind: Kind) -> None:
    """A document must be of a type Kimi extracts text from (images: by OCR), or be text."""
    ext = path.suffix.lower()
    known = ext in DOCUMENT_EXTENSIONS or ext in IMAGE_EXTENSIONS
    if kind == "document" and not known and not _looks_like_text(data):
        raise FileLimitError(
            f"{path.name}: Kimi cannot extract text from {ext or 'files without an extension'} "
            "files (documents, text and source code only)"
        )


def check_account(listed: Sequence[Any], size: int) -> None:
    """Room for one more file of ``size`` bytes, given the account's file list (FileObjects)."""
    files = [f for f in listed if isinstance(f, dict)]
    if len(files) >= MAX_FILES:
        raise FileLimitError(
            f"the Kimi account already holds {len(files)} files, its limit is {MAX_FILES}; "
            "delete some first (files.prune())"
        )
    total = sum(int(f.get("bytes") or 0) for f in files)
    if total + size > MAX_TOTAL_BYTES:
        raise FileLimitError(
            f"the Kimi account holds {total} bytes of files; {size} more would pass its limit "
            f"of {MAX_TOTAL_BYTES} bytes (10 GB); delete some first (files.prune())"
        )


def check_model(kind: Kind, model: str, image_input: bool, video_input: bool) -> None:
    if kind == "image" and not image_input:
        raise FileLimitError(f"the model {model!r} does not take images")
    if kind == "video" and not video_input:
        raise FileLimitError(f"the model {model!r} does not take video")


def _looks_like_text(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a character cut at the sniff boundary
    return True

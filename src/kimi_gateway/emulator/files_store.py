"""The emulator's in-memory file store: Kimi's Files API state and rules (docs/kimi.md §9, §2.2).

What belongs here: FileObjects, their bytes and extracted text, the upload limits and the exact
error messages Kimi gives for them. HTTP parsing and rendering live in `files.py`; text extraction
lives in `extract.py`. Errors are raised as `EmulatorError` so every face can render them.
"""

from __future__ import annotations

import base64
import builtins
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

import orjson

from kimi_gateway.emulator.config import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_TOTAL_BYTES,
    MIB,
    FileSettings,
)
from kimi_gateway.emulator.errors import EmulatorError, invalid_request
from kimi_gateway.emulator.extract import ExtractedText, ExtractionError, extract_text

# Purposes accepted by OAS 2026 (docs/kimi.md §9 [O] OAS); older docs accepted only file-extract.
PURPOSES: tuple[str, ...] = ("file-extract", "image", "video", "batch")
FILE_EXTRACT = "file-extract"


# Messages verbatim from docs/kimi.md §2.2 [O].
LEGACY_PURPOSE_MESSAGE = "Invalid purpose: only 'file-extract' accepted"
ZERO_SIZE_MESSAGE = "File size is zero, please confirm and re-upload the file"
TOO_LARGE_MESSAGE = (
    "File size is too large, max file size is {max_size}, please confirm and re-upload the file"
)
FILE_COUNT_MESSAGE = (
    "The number of files you have uploaded exceeded the max file count {max_file_count}, "
    "please delete previous uploaded files"
)
# The wording the current help center uses for the same limit (§2.2 [O] HC).
FILE_COUNT_MESSAGE_HC = "Too many uploaded files"
_FILE_COUNT_MESSAGES = {"documented": FILE_COUNT_MESSAGE, "help_center": FILE_COUNT_MESSAGE_HC}
EXTRACT_FAILED_MESSAGE = "Failed to extract file: {error}"
# Not documented anywhere: the emulator's own wording, shaped like Kimi's messages.
UNKNOWN_PURPOSE_MESSAGE = "Invalid purpose: {purpose}, expected one of " + ", ".join(PURPOSES)
TOTAL_SIZE_MESSAGE = (
    "The total size of files you have uploaded exceeded the max total size {max_total}, "
    "please delete previous uploaded files"
)
# Modelled on the model 404 "Not found the model {m} or Permission denied" [O] DOCS-OLD, CB.
NOT_FOUND_MESSAGE = "Not found the file {file_id} or Permission denied"

# MIME types of raw (non-extract) uploads, served back by /content.
_RAW_MIMES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".jsonl": "application/jsonl",
}


@dataclass(frozen=True)
class FileObject:
    """Kimi's FileObject; `to_wire()` gives the JSON fields in the documented order (§9)."""

    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str
    status_details: str
    object: str = "file"

    def to_wire(self) -> dict[str, str | int]:
        return {
            "id": self.id,
            "object": self.object,
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "status_details": self.status_details,
        }


@dataclass(frozen=True)
class FileContent:
    """The body and media type of `GET /v1/files/{id}/content`."""

    body: builtins.bytes
    media_type: str


@dataclass(frozen=True)
class _Stored:
    info: FileObject
    data: builtins.bytes
    extracted: ExtractedText | None
    error: str | None


class FileStore:
    """Every uploaded file of the emulated account, with Kimi's limits and messages.

    Thread-safe: the emulator serves from a uvicorn thread while tests inspect the store.
    """

    def __init__(
        self,
        *,
        max_files: int = DEFAULT_MAX_FILES,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
        only_file_extract: bool = False,
        ok_status: str = "ok",
        file_count_message: str = FILE_COUNT_MESSAGE,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create an empty store.

        `only_file_extract` gives the 2024-25 behaviour (§9): any other purpose is refused with
        `Invalid purpose: only 'file-extract' accepted`. `ok_status` is the status of a good file:
        "ok" in every capture [O] CB, [3M]; the OAS example says "ready" (§17 item 9).
        `file_count_message` may contain `{max_file_count}`; pass `FILE_COUNT_MESSAGE_HC` for the
        help center's wording. `seed` makes file ids reproducible (given the same `clock`).
        """
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.only_file_extract = only_file_extract
        self.ok_status = ok_status
        self.file_count_message = file_count_message
        self._clock = clock
        self._lock = threading.Lock()
        self._files: dict[str, _Stored] = {}
        self._ids = _XidMaker(random.Random(seed))

    def configure(self, settings: FileSettings) -> None:
        """Take the limits and switches of an EmulatorConfig's `files` section."""
        with self._lock:
            self.max_files = settings.max_files
            self.max_file_bytes = settings.max_file_bytes
            self.max_total_bytes = settings.max_total_bytes
            self.only_file_extract = settings.only_file_extract
            self.ok_status = settings.ok_status
            self.file_count_message = _FILE_COUNT_MESSAGES[settings.file_count_message]

    def upload(self, filename: str, data: builtins.bytes, purpose: str) -> FileObject:
        """Store one upload and extract its text when the purpose is `file-extract`.

        An extraction failure still stores the file (status "error", details set) the way Kimi
        answers 200 with `status: "error"` [3M] (a 2024 capture); `content()` then fails.
        """
        self._check_purpose(purpose)
        self._check_size(len(data))
        extracted: ExtractedText | None = None
        error: str | None = None
        if purpose == FILE_EXTRACT:
            try:
                extracted = extract_text(filename, data)
            except ExtractionError as exc:
                error = str(exc)
        with self._lock:
            self._check_room(len(data))
            created_at = int(self._clock())
            info = FileObject(
                id=self._ids.make(created_at),
                bytes=len(data),
                created_at=created_at,
                filename=filename,
                purpose=purpose,
                status="error" if error is not None else self.ok_status,
                status_details=error or "",
            )
            self._files[info.id] = _Stored(info, data, extracted, error)
        return info

    def list(self) -> builtins.list[FileObject]:
        """Every file, oldest first (Kimi's order is not documented)."""
        with self._lock:
            return [stored.info for stored in self._files.values()]

    def get(self, file_id: str) -> FileObject:
        return self._stored(file_id).info

    def delete(self, file_id: str) -> FileObject:
        with self._lock:
            stored = self._files.pop(file_id, None)
        if stored is None:
            raise _not_found(file_id)
        return stored.info

    def content(self, file_id: str) -> FileContent:
        """The extracted text envelope for file-extract (§9), the raw bytes otherwise."""
        stored = self._stored(file_id)
        if stored.info.purpose != FILE_EXTRACT:
            suffix = PurePosixPath(stored.info.filename.lower()).suffix
            return FileContent(stored.data, _RAW_MIMES.get(suffix, "application/octet-stream"))
        if stored.extracted is None:
            message = EXTRACT_FAILED_MESSAGE.format(error=stored.error)
            raise EmulatorError(500, message, "server_error")
        # A string that is itself JSON, served as text/plain ([O] CB 2024 reference, .NET
        # FileContent; OAS 2026 `/v1/files/{file_id}/content` 200 is `text/plain`).
        envelope = {
            "content": stored.extracted.text,
            "file_type": stored.extracted.mime,
            "filename": stored.info.filename,
            "title": "",
            "type": "file",
        }
        return FileContent(orjson.dumps(envelope), "text/plain")

    def data(self, file_id: str) -> builtins.bytes:
        """The uploaded bytes, e.g. for a face resolving an `ms://<file_id>` reference (§9)."""
        return self._stored(file_id).data

    def extracted_text(self, file_id: str) -> ExtractedText | None:
        """The extracted text, or None for raw purposes and failed extractions."""
        return self._stored(file_id).extracted

    def total_bytes(self) -> int:
        with self._lock:
            return sum(stored.info.bytes for stored in self._files.values())

    def clear(self) -> None:
        with self._lock:
            self._files.clear()

    def _stored(self, file_id: str) -> _Stored:
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise _not_found(file_id)
        return stored

    def _check_purpose(self, purpose: str) -> None:
        if self.only_file_extract and purpose != FILE_EXTRACT:
            raise invalid_request(LEGACY_PURPOSE_MESSAGE)
        if purpose not in PURPOSES:
            raise invalid_request(UNKNOWN_PURPOSE_MESSAGE.format(purpose=purpose))

    def _check_size(self, size: int) -> None:
        if size == 0:
            raise invalid_request(ZERO_SIZE_MESSAGE)
        if size > self.max_file_bytes:
            raise invalid_request(
                TOO_LARGE_MESSAGE.format(max_size=_size_text(self.max_file_bytes))
            )

    def _check_room(self, size: int) -> None:
        """Count and total limits; call with the lock held."""
        if len(self._files) >= self.max_files:
            raise invalid_request(self.file_count_message.format(max_file_count=self.max_files))
        used = sum(stored.info.bytes for stored in self._files.values())
        if used + size > self.max_total_bytes:
            raise invalid_request(
                TOTAL_SIZE_MESSAGE.format(max_total=_size_text(self.max_total_bytes))
            )


class _XidMaker:
    """File ids in the xid layout: 4-byte Unix time, 5 "machine" bytes, 3-byte counter, written
    as 20 lowercase base32hex characters.

    Why xid: both documented ids decode that way, and `cnoki7pkqq4r540f4q6g` starts with the
    4 bytes of the `created_at` (1710311711) it was captured with [3M] (a 2024 capture).
    """

    def __init__(self, rng: random.Random) -> None:
        self._machine = rng.getrandbits(40).to_bytes(5, "big")
        self._counter = rng.getrandbits(24)

    def make(self, created_at: int) -> str:
        self._counter = (self._counter + 1) % (1 << 24)
        raw = (
            (created_at % (1 << 32)).to_bytes(4, "big")
            + self._machine
            + self._counter.to_bytes(3, "big")
        )
        return base64.b32hexencode(raw).decode("ascii").rstrip("=").lower()


def _size_text(size: int) -> str:
    """`100MB` for the documented limit; exact bytes for the small limits tests use."""
    if size % (1024 * MIB) == 0:
        return f"{size // (1024 * MIB)}GB"
    if size % MIB == 0:
        return f"{size // MIB}MB"
    return f"{size}B"


def _not_found(file_id: str) -> EmulatorError:
    message = NOT_FOUND_MESSAGE.format(file_id=file_id)
    return EmulatorError(404, message, "resource_not_found_error")

"""What the SDK remembers about uploads, on disk, across runs and processes: one record per
(content hash, purpose) per Kimi account, and the extracted text of each document.

Layout under ``<data dir>/files/<account>/`` (``Settings.resolved_data_dir``; ``<account>`` is a
hash of the base URL and key, so an id from one account is never used with another):
``<sha256>.<purpose>.json`` the record, ``<sha256>.content`` the text Kimi extracted, and
``<sha256>.<purpose>.lock``, held (``fcntl.flock``) while one process checks and uploads, so two
processes asking about the same file at once still upload it once. Records are written to a
temporary file and renamed, so a reader never sees half a record. Where ``fcntl`` does not exist
(Windows) the lock is per process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One upload Kimi holds for us."""

    sha256: str
    purpose: str  # "file-extract", "image" or "video"
    file_id: str
    filename: str
    bytes: int
    uploaded_at: float  # time.time()
    last_used: float

    @property
    def url(self) -> str:
        """The ``ms://`` reference chat messages use for images and video (docs/kimi.md §9)."""
        return f"ms://{self.file_id}"


def account_key(*parts: str) -> str:
    """A short, one-way name for an account (base URL and key): never the key itself."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


class FileCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, asyncio.Lock] = {}

    def _path(self, sha256: str, suffix: str) -> Path:
        return self.root / f"{sha256}.{suffix}"

    @contextlib.asynccontextmanager
    async def locked(self, sha256: str, purpose: str) -> AsyncIterator[None]:
        """Held by one task of one process at a time (per content and purpose)."""
        name = f"{sha256}.{purpose}"
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path(sha256, f"{purpose}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if fcntl is not None:
                    await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def get(self, sha256: str, purpose: str) -> FileRecord | None:
        try:
            raw = self._path(sha256, f"{purpose}.json").read_bytes()
            return FileRecord(**orjson.loads(raw))
        except (OSError, ValueError, TypeError):
            return None

    def put(self, record: FileRecord) -> None:
        path = self._path(record.sha256, f"{record.purpose}.json")
        self._write(path, orjson.dumps(asdict(record)))

    def touch(self, record: FileRecord) -> FileRecord:
        used = FileRecord(**{**asdict(record), "last_used": time.time()})
        self.put(used)
        return used

    def content(self, sha256: str) -> str | None:
        try:
            return self._path(sha256, "content").read_text(encoding="utf-8")
        except OSError:
            return None

    def put_content(self, sha256: str, text: str) -> None:
        self._write(self._path(sha256, "content"), text.encode("utf-8"))

    def records(self) -> list[FileRecord]:
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.glob("*.json")):
            sha256, _, purpose = path.name.removesuffix(".json").partition(".")
            record = self.get(sha256, purpose)
            if record is not None:
                found.append(record)
        return found

    def remove(self, record: FileRecord, *, content: bool = True) -> None:
        # The lock file stays: another process may hold it right now.
        suffixes = [f"{record.purpose}.json"]
        if content and record.purpose == "file-extract":
            suffixes.append("content")
        for suffix in suffixes:
            with contextlib.suppress(FileNotFoundError):
                self._path(record.sha256, suffix).unlink()

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

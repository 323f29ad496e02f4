"""Chat with documents through Kimi's Files API (docs/kimi.md §9): upload once, extract once,
ask many times.

- :meth:`AsyncFiles.upload` sends a file once per content hash and purpose per account, and
  remembers it on disk across runs and processes (file_cache.py); Kimi's limits are checked
  first (file_limits.py).
- :meth:`AsyncFiles.content` is the text Kimi extracted (``purpose="file-extract"``), fetched
  once and cached on disk; :meth:`AsyncFiles.messages` places it as Kimi requires: the whole
  ``/content`` string as a system message, one per file, before the question.
- Images and video are uploaded with purpose ``image`` / ``video`` and referenced as
  ``ms://<id>`` parts of the user message.
- :meth:`AsyncFiles.prune` deletes uploads (on Kimi and here) not used for a while, or all.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.sdk.file_cache import FileCache, FileRecord, account_key
from kimi_gateway.sdk.file_limits import (
    Kind,
    check_account,
    check_model,
    check_size,
    check_type,
    kind_of,
)
from kimi_gateway.sdk.models import model_info
from kimi_gateway.sdk.results import ChatResult

if TYPE_CHECKING:
    from kimi_gateway.sdk.client import AsyncKimi

PathLike = str | Path
_PURPOSES: dict[Kind, str] = {"document": "file-extract", "image": "image", "video": "video"}
_PART_TYPES = {"image": "image_url", "video": "video_url"}


def multipart(filename: str, data: bytes, purpose: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with ``purpose`` and ``file``, and its content type."""
    boundary = f"kimi-gateway-{uuid.uuid4().hex}"
    safe = filename.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
        f"--{boundary}\r\nContent-Disposition: form-data; "
        f'name="file"; filename="{safe}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    body = head.encode("utf-8") + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class AsyncFiles:
    def __init__(self, client: AsyncKimi) -> None:
        self._client = client
        account = account_key(*client.backend.account)
        self.cache = FileCache(client.settings.resolved_data_dir() / "files" / account)
        self.uploads = 0  # files this object actually sent to Kimi

    async def upload(self, path: PathLike, *, purpose: str | None = None) -> FileRecord:
        """The record of ``path``'s content on Kimi, uploading it only if no upload of the same
        bytes (and purpose) is remembered."""
        file = Path(path)
        kind = kind_of(file)
        chosen = purpose or _PURPOSES[kind]
        check_size(file, (await asyncio.to_thread(file.stat)).st_size)
        data = await asyncio.to_thread(file.read_bytes)
        sha256 = hashlib.sha256(data).hexdigest()
        async with self.cache.locked(sha256, chosen):
            known = self.cache.get(sha256, chosen)
            if known is not None:
                return self.cache.touch(known)
            check_type(file, data, "document" if chosen == "file-extract" else kind)
            check_account(await self.list(), len(data))
            record = await self._send(file.name, data, chosen, sha256)
            self.cache.put(record)
            return record

    async def _send(self, filename: str, data: bytes, purpose: str, sha256: str) -> FileRecord:
        body, content_type = multipart(filename, data, purpose)
        raw = await self._client.backend.files_call(
            "POST", "", headers={"content-type": content_type}, body=body
        )
        self.uploads += 1
        obj = _json_object(raw, "upload")
        if obj.get("status") == "error":
            details = obj.get("status_details") or "no details"
            await self._delete(str(obj.get("id", "")))
            raise GatewayError("invalid_request", f"Kimi could not read {filename}: {details}")
        now = time.time()
        return FileRecord(sha256, purpose, str(obj["id"]), filename, len(data), now, now)

    async def list(self) -> builtins.list[dict[str, Any]]:
        """The account's files as Kimi lists them (FileObjects)."""
        raw = await self._client.backend.files_call("GET", "", headers={}, body=None)
        data = _json_object(raw, "list").get("data")
        return [f for f in data if isinstance(f, dict)] if isinstance(data, list) else []

    async def content(self, path: PathLike) -> str:
        """The text Kimi extracted from ``path``: the ``/content`` string, whole (§9)."""
        file = Path(path)
        sha256 = hashlib.sha256(await asyncio.to_thread(file.read_bytes)).hexdigest()
        cached = self.cache.content(sha256)
        if cached is not None:
            return cached
        record = await self.upload(file, purpose="file-extract")
        raw = await self._client.backend.files_call(
            "GET", f"/{record.file_id}/content", headers={}, body=None
        )
        text = raw.decode("utf-8")
        self.cache.put_content(sha256, text)
        return text

    async def media_url(self, path: PathLike, *, model: str | None = None) -> str:
        """``ms://<id>`` for an image or video, checked against the model's capabilities."""
        file = Path(path)
        kind = kind_of(file)
        if kind == "document":
            raise GatewayError("invalid_request", f"{file.name} is not an image or a video")
        name = model or self._client.default_model
        info = model_info(name, self._client.backend.product_of(name))
        check_model(kind, name, info.image_input, info.video_input)
        return (await self.upload(file)).url

    async def messages(
        self, paths: Sequence[PathLike], question: str, *, model: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """The messages that ask ``question`` about ``paths``: one system message per document
        (its extracted text), then the question with any images/video as ``ms://`` parts."""
        out: builtins.list[dict[str, Any]] = []
        media: builtins.list[dict[str, Any]] = []
        for path in paths:
            kind = kind_of(Path(path))
            if kind == "document":
                out.append({"role": "system", "content": await self.content(path)})
            else:
                url = await self.media_url(path, model=model)
                media.append({"type": _PART_TYPES[kind], _PART_TYPES[kind]: {"url": url}})
        content: Any = [{"type": "text", "text": question}, *media] if media else question
        out.append({"role": "user", "content": content})
        return out

    async def ask(
        self,
        paths: PathLike | Sequence[PathLike],
        question: str,
        *,
        model: str | None = None,
        system: str | None = None,
        **options: Any,
    ) -> ChatResult:
        """Ask ``question`` about one or more files (documents, images, video)."""
        chosen = [paths] if isinstance(paths, str | Path) else list(paths)
        messages = await self.messages(chosen, question, model=model)
        if system is not None:
            messages.insert(0, {"role": "system", "content": system})
        result: ChatResult = await self._client.chat(messages, model=model, **options)
        return result

    async def prune(
        self, *, older_than: float | timedelta | None = None, everything: bool = False
    ) -> builtins.list[FileRecord]:
        """Delete remembered uploads last used more than ``older_than`` ago (seconds or a
        timedelta), or all with ``everything=True``: on Kimi and here. Returns what went."""
        if older_than is None and not everything:
            raise ValueError("give older_than, or everything=True")
        age = older_than.total_seconds() if isinstance(older_than, timedelta) else older_than
        cutoff = time.time() - (age or 0.0)
        pruned = []
        for record in self.cache.records():
            if everything or record.last_used < cutoff:
                await self._delete(record.file_id)
                self.cache.remove(record)
                pruned.append(record)
        return pruned

    async def _delete(self, file_id: str) -> None:
        try:
            await self._client.backend.files_call("DELETE", f"/{file_id}", headers={}, body=None)
        except GatewayError as exc:
            if exc.kind != "not_found":  # already gone is what we wanted
                raise


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise GatewayError("server", f"Kimi's files {what} reply was not a JSON object")
    return value

"""upstreams/kimi/file_purpose.py on multipart bodies built by httpx (as the openai SDK builds
them) and by hand: the purpose replaced byte for byte however the body is cut into reads, the
length adjusted, and bodies it cannot map left exactly as they came (Kimi then judges them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from kimi_gateway.core.model import Diagnostic
from kimi_gateway.settings_files import FILE_PURPOSES
from kimi_gateway.upstreams.kimi.file_purpose import READ_AHEAD, PurposeMapping, kimi_purpose


async def _reads(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _upload(purpose: str, name: str, data: bytes) -> tuple[bytes, str, str]:
    built = httpx.Request(
        "POST", "http://x/v1/files", data={"purpose": purpose}, files={"file": (name, data)}
    )
    return built.read(), built.headers["content-type"], built.headers["content-length"]


def _mapped(
    body: bytes, content_type: str, length: str | None, size: int
) -> tuple[bytes, PurposeMapping]:
    mapping = PurposeMapping(FILE_PURPOSES)

    async def run() -> bytes:
        rest = await mapping.prepare(content_type, length, _reads(body, size))
        return b"".join([chunk async for chunk in rest])

    return asyncio.run(run()), mapping


@pytest.mark.parametrize("size", [1, 2, 7, 64, 100_000])
def test_the_value_is_replaced_and_nothing_else(size: int) -> None:
    body, content_type, length = _upload("user_data", "chart.png", b"\x89PNG" * 50)
    sent, mapping = _mapped(body, content_type, length, size)
    assert sent == body.replace(b"\r\n\r\nuser_data\r\n", b"\r\n\r\nimage\r\n", 1)
    assert mapping.content_length == len(sent)
    assert mapping.diagnostics == (
        Diagnostic(
            "file_purpose",
            "purpose 'user_data' is not one of Kimi's; the file was uploaded to Kimi with"
            " purpose 'image'",
        ),
    )


@pytest.mark.parametrize(
    ("asked", "file_type", "sent"),
    [
        ("assistants", "image/png", "file-extract"),
        ("vision", "application/pdf", "image"),
        ("user_data", "image/webp", "image"),
        ("user_data", "video/mp4", "video"),
        ("user_data", "application/pdf", "file-extract"),
        ("user_data", None, "file-extract"),
        ("file-extract", "image/png", None),
        ("fine-tune", "application/jsonl", None),
    ],
)
def test_kimi_purpose(asked: str, file_type: str | None, sent: str | None) -> None:
    assert kimi_purpose(asked, file_type, FILE_PURPOSES) == sent


def test_a_file_named_without_type_is_typed_by_its_name() -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\nxyz\r\n--{boundary}--\r\n"
    ).encode()
    sent, mapping = _mapped(body, f"multipart/form-data; boundary={boundary}", None, 5)
    assert sent == body.replace(b"user_data", b"video")
    assert mapping.content_length is None  # the client sent none: neither does the gateway


def test_a_purpose_after_the_read_ahead_is_left_to_kimi() -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        f"\r\n{'x' * READ_AHEAD}\r\n--{boundary}\r\n"
        f'Content-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--{boundary}--\r\n'
    ).encode()
    sent, mapping = _mapped(body, f"multipart/form-data; boundary={boundary}", "1", 4096)
    assert (sent, mapping.diagnostics, mapping.content_length) == (body, (), 1)


def test_a_body_that_is_not_multipart_passes_untouched() -> None:
    sent, mapping = _mapped(b'{"purpose": "assistants"}', "application/json", "25", 3)
    assert (sent, mapping.diagnostics, mapping.content_length) == (
        b'{"purpose": "assistants"}',
        (),
        None,
    )

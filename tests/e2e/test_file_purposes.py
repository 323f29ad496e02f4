"""OpenAI upload purposes Kimi does not have (issue 9 item 10): ``assistants``, ``user_data`` and
``vision`` go to Kimi under one of its purposes (docs/kimi.md §9: ``file-extract``, ``image``,
``video``, ``batch``) instead of a 400, with a diagnostic on the reply and in the access log;
uploaded with the official openai SDK through the gateway to the emulator."""

from __future__ import annotations

import time
from typing import Any

import openai
import orjson
import pytest
from openai.types import FilePurpose

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DIAGNOSTIC = (
    "file_purpose;detail=\"purpose '{asked}' is not one of Kimi's; the file was uploaded to"
    " Kimi with purpose '{sent}'\""
)


def _client(gateway: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_url, api_key="unused", max_retries=0)


@pytest.mark.parametrize(
    ("asked", "name", "data", "mime", "sent"),
    [
        ("assistants", "notes.txt", b"The answer is 42.", "text/plain", "file-extract"),
        ("user_data", "notes.txt", b"The answer is 42.", "text/plain", "file-extract"),
        ("user_data", "chart.png", PNG, "image/png", "image"),
        ("user_data", "clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4", "video"),
        ("vision", "chart.png", PNG, "image/png", "image"),
    ],
)
def test_openai_purposes_are_sent_as_kimi_s(
    gateway: Any, asked: FilePurpose, name: str, data: bytes, mime: str, sent: str
) -> None:
    raw = _client(gateway).files.with_raw_response.create(file=(name, data, mime), purpose=asked)
    created = raw.parse()
    assert (created.purpose, created.bytes, created.filename) == (sent, len(data), name)
    assert raw.headers["x-kimi-gateway-diagnostics"] == DIAGNOSTIC.format(asked=asked, sent=sent)


def test_extracted_text_of_an_assistants_upload(gateway: Any) -> None:
    client = _client(gateway)
    created = client.files.create(
        file=("notes.txt", b"The answer is 42.", "text/plain"), purpose="assistants"
    )
    content = orjson.loads(client.files.content(created.id).text)
    assert content["content"] == "The answer is 42."


def test_the_mapping_is_a_setting_and_the_access_log_says(gateway_pool: Any) -> None:
    gateway = gateway_pool.get(quirks={"file_purposes": {"user_data": "file-extract"}})
    client = _client(gateway)
    raw = client.files.with_raw_response.create(
        file=("chart.png", PNG, "image/png"), purpose="user_data"
    )
    assert str(raw.parse().purpose) == "file-extract"
    request_id = raw.headers["x-request-id"]
    deadline = time.monotonic() + 5
    lines: list[dict[str, Any]] = []
    while not lines and time.monotonic() < deadline:
        lines = [line for line in gateway.access_log() if line["request_id"] == request_id]
        time.sleep(0.02)
    assert lines[0]["diagnostics"] == [
        "file_purpose: purpose 'user_data' is not one of Kimi's; the file was uploaded to Kimi"
        " with purpose 'file-extract'"
    ]
    batch = client.files.with_raw_response.create(
        file=("jobs.jsonl", b"{}\n", "application/jsonl"), purpose="batch"
    )  # Kimi's own purposes go unchanged, with no diagnostic
    assert (batch.parse().purpose, batch.headers.get("x-kimi-gateway-diagnostics")) == (
        "batch",
        None,
    )
    with pytest.raises(openai.BadRequestError) as caught:  # no entry left for vision: Kimi's 400
        client.files.create(file=("chart.png", PNG, "image/png"), purpose="vision")
    assert "vision" in caught.value.message

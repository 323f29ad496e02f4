"""Check that a target really answered before timing it: one reply of each kind must carry the
fixed upstream's text in the client's dialect. A misrouted or erroring target fails here with a
reason instead of producing fast nonsense. Pure: bytes in, error text (or None) out.
"""

from __future__ import annotations

from typing import Any

import orjson

from benchkit.fixtures import CONTENT_PIECES

EXPECTED_TEXT = "".join(CONTENT_PIECES)


def _sse_data(body: bytes) -> list[bytes]:
    """The ``data:`` payloads of an SSE body, in order (CRLF tolerated)."""
    out = []
    for line in body.replace(b"\r\n", b"\n").split(b"\n"):
        if line.startswith(b"data:"):
            out.append(line[5:].strip())
    return out


def _openai_stream_text(body: bytes) -> tuple[str, bool]:
    text, done = [], False
    for data in _sse_data(body):
        if data == b"[DONE]":
            done = True
            continue
        chunk: dict[str, Any] = orjson.loads(data)
        for choice in chunk.get("choices") or []:
            text.append((choice.get("delta") or {}).get("content") or "")
    return "".join(text), done


def _anthropic_stream_text(body: bytes) -> tuple[str, bool]:
    text, stopped = [], False
    for data in _sse_data(body):
        event: dict[str, Any] = orjson.loads(data)
        if event.get("type") == "content_block_delta":
            text.append(event["delta"].get("text", ""))
        stopped = stopped or event.get("type") == "message_stop"
    return "".join(text), stopped


def _json_text(path: str, body: bytes) -> str:
    data: dict[str, Any] = orjson.loads(body)
    if path == "same":
        return str(data["choices"][0]["message"]["content"])
    return "".join(part.get("text", "") for part in data["content"] if part.get("type") == "text")


def check_reply(path: str, stream: bool, status: int, body: bytes) -> str | None:
    """None if the reply is right; else what is wrong with it."""
    if status != 200:
        return f"HTTP {status}: {body[:300]!r}"
    try:
        if not stream:
            text, ended = _json_text(path, body), True
        elif path == "same":
            text, ended = _openai_stream_text(body)
        else:
            text, ended = _anthropic_stream_text(body)
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as exc:
        return f"unexpected body ({type(exc).__name__}: {exc}): {body[:300]!r}"
    if text != EXPECTED_TEXT:
        return f"text differs: {text[:120]!r}"
    if not ended:
        return "stream did not end ([DONE] / message_stop missing)"
    return None

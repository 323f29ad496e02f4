"""Fixed wire bodies: what the benchmark's clients send and what the fixed upstream answers.

Upstream bodies are Kimi-shaped (docs/kimi.md §6 non-streaming, §7.1 streaming: a role chunk
with ``content:""``, content chunks, a final chunk with ``finish_reason`` and choice-level
``usage``, then ``[DONE]``). The Anthropic-shaped bodies are only for the direct-to-nginx
baseline of the translated path (what a client would get back), never relayed by a gateway.
Pure: bytes in memory, no I/O.
"""

from __future__ import annotations

from typing import Any

import orjson

MODEL = "kimi-k2.6"
CHAT_ID = "chatcmpl-67c96964971a7a505b6ff17a"  # 24 hex, as in the 2025 capture (§6)
MSG_ID = "msg_01BenchFixedResponse000000"
CREATED = 1767225600
FINGERPRINT = "fpv0_ca1d2527"
CONTENT_PIECES: tuple[str, ...] = tuple(
    f"{word} "
    for word in (
        "Hello!",
        "This",
        "is",
        "a",
        "fixed",
        "reply",
        "from",
        "the",
        "benchmark",
        "upstream,",
        "eighteen",
        "pieces",
        "long,",
        "so",
        "every",
        "relay",
        "does",
        "work.",
    )
)
PROMPT_TOKENS = 57
COMPLETION_TOKENS = len(CONTENT_PIECES)
SYSTEM_PROMPT = (
    "You are Kimi, an AI assistant provided by Moonshot AI. You are proficient in Chinese and "
    "English conversations. You provide users with safe, helpful, and accurate answers. "
) * 3
USER_PROMPT = "Say hello and explain in one sentence what a benchmark upstream is."


def _usage() -> dict[str, Any]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        "cached_tokens": 0,
    }


def kimi_completion() -> bytes:
    """A non-streaming ``chat.completion`` as the Open Platform returns it (§6)."""
    usage = {
        **_usage(),
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    body = {
        "id": CHAT_ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(CONTENT_PIECES)},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
        "system_fingerprint": FINGERPRINT,
    }
    return orjson.dumps(body)


def _chunk(delta: dict[str, Any], finish: str | None, usage: dict[str, Any] | None) -> bytes:
    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
    if usage is not None:
        choice["usage"] = usage
    body = {
        "id": CHAT_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": FINGERPRINT,
        "choices": [choice],
    }
    return b"data: " + orjson.dumps(body) + b"\n\n"


def kimi_stream() -> bytes:
    """The 20-chunk SSE body (§7.1): role chunk, 18 content chunks, finish chunk, [DONE]."""
    parts = [_chunk({"role": "assistant", "content": ""}, None, None)]
    parts += [_chunk({"content": piece}, None, None) for piece in CONTENT_PIECES]
    parts.append(_chunk({}, "stop", _usage()))
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def anthropic_message() -> bytes:
    """What an Anthropic client gets for the same reply (direct baseline only)."""
    body = {
        "id": MSG_ID,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "".join(CONTENT_PIECES)}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": COMPLETION_TOKENS},
    }
    return orjson.dumps(body)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def anthropic_stream() -> bytes:
    """The same reply as an Anthropic Messages event stream (direct baseline only)."""
    start = orjson.loads(anthropic_message())
    start["content"] = []
    start["stop_reason"] = None
    start["usage"] = {"input_tokens": PROMPT_TOKENS, "output_tokens": 1}
    parts = [
        _event("message_start", {"type": "message_start", "message": start}),
        _event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    for piece in CONTENT_PIECES:
        delta = {"type": "text_delta", "text": piece}
        parts.append(
            _event(
                "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
            )
        )
    parts.append(_event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    parts.append(
        _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": COMPLETION_TOKENS},
            },
        )
    )
    parts.append(_event("message_stop", {"type": "message_stop"}))
    return b"".join(parts)


def openai_request(stream: bool, model: str = MODEL) -> bytes:
    """The OpenAI Chat Completions request every client sends on the same-dialect path."""
    body = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": USER_PROMPT},
        ],
        "temperature": 0.6,
        "max_tokens": 256,
        "stream": stream,
    }
    return orjson.dumps(body)


def anthropic_request(stream: bool, model: str = MODEL) -> bytes:
    """The Anthropic Messages request of the translated path."""
    body = {
        "model": model,
        "system": SYSTEM_PROMPT,
        "messages": [{"role": "user", "content": USER_PROMPT}],
        "temperature": 0.6,
        "max_tokens": 256,
        "stream": stream,
    }
    return orjson.dumps(body)

"""Usage read straight off the wire, without our dialect parsers: what the upstream reported,
and what the client was shown, plus each dialect's convention for showing it.

OpenAI ``prompt_tokens`` INCLUDES cached tokens (``prompt_tokens_details.cached_tokens``);
Anthropic ``input_tokens`` EXCLUDES ``cache_read_input_tokens`` and
``cache_creation_input_tokens`` (docs/kimi.md §6, §14; docs/kimi.md §F2.4).
"""

from __future__ import annotations

from typing import Any

import orjson

from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.usage import Usage

from .pipeline import Outcome


def sse_payloads(raw: bytes) -> list[tuple[str | None, Any]]:
    """(event name, decoded data) of every event but ``[DONE]``."""
    decoder = SSEDecoder()
    events = decoder.decode(raw) + decoder.flush()
    return [(e.event, orjson.loads(e.data)) for e in events if e.data != "[DONE]"]


def upstream_usage(outcome: Outcome) -> Usage:
    """What Kimi reported, read field by field from its own bytes."""
    if outcome.pair.upstream.name == "openai":
        return _from_openai(_openai_usages(outcome.upstream_raw, outcome.stream)[-1])
    if not outcome.stream:
        return _from_anthropic(orjson.loads(outcome.upstream_raw)["usage"])
    usage: dict[str, Any] = {}
    for _, data in sse_payloads(outcome.upstream_raw):
        if data["type"] == "message_start":
            usage.update(data["message"]["usage"])
        elif data["type"] == "message_delta":
            usage.update({k: v for k, v in data["usage"].items() if v is not None})
    return _from_anthropic(usage)


def client_usages(outcome: Outcome) -> list[dict[str, Any]]:
    """Every usage object the client is shown with the final numbers: the JSON reply's; in an
    OpenAI stream the finish chunk's choice-level usage and the ``choices: []`` chunk's (the
    client asked for include_usage); in an Anthropic stream ``message_delta``'s."""
    if not outcome.stream:
        assert outcome.body is not None
        return [outcome.body["usage"]]
    assert outcome.sse is not None
    if outcome.pair.client == "openai":
        return _openai_usages(outcome.sse, True)
    payloads = sse_payloads(outcome.sse)
    return [data["usage"] for _, data in payloads if data["type"] == "message_delta"]


def _openai_usages(raw: bytes, stream: bool) -> list[dict[str, Any]]:
    if not stream:
        return [orjson.loads(raw)["usage"]]
    found: list[dict[str, Any]] = []
    for _, chunk in sse_payloads(raw):
        choices = chunk.get("choices") or []
        if choices and choices[0].get("usage"):
            found.append(choices[0]["usage"])
        if chunk.get("usage"):
            found.append(chunk["usage"])
    return found


def _from_openai(usage: dict[str, Any]) -> Usage:
    cached = usage.get("cached_tokens", 0)
    details = usage.get("prompt_tokens_details")
    if details is not None:
        assert details["cached_tokens"] == cached  # Kimi sends both (§6)
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    return Usage(
        input_uncached=usage["prompt_tokens"] - cached,
        input_cache_read=cached,
        output=usage["completion_tokens"],
        reasoning=reasoning,
    )


def _from_anthropic(usage: dict[str, Any]) -> Usage:
    return Usage(
        input_uncached=usage["input_tokens"],
        input_cache_read=usage.get("cache_read_input_tokens") or 0,
        input_cache_write=usage.get("cache_creation_input_tokens") or 0,
        output=usage["output_tokens"],
        reasoning=(usage.get("output_tokens_details") or {}).get("thinking_tokens", 0),
    )


def shown_to(client: str, usage: Usage) -> dict[str, Any]:
    """The usage object a ``client`` must be shown for ``usage``."""
    if client == "openai":
        prompt = usage.input_uncached + usage.input_cache_read + usage.input_cache_write
        return {
            "prompt_tokens": prompt,
            "completion_tokens": usage.output,
            "total_tokens": prompt + usage.output,
            "cached_tokens": usage.input_cache_read,
            "prompt_tokens_details": {"cached_tokens": usage.input_cache_read},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
        }
    shown: dict[str, Any] = {
        "input_tokens": usage.input_uncached,
        "cache_creation_input_tokens": usage.input_cache_write,
        "cache_read_input_tokens": usage.input_cache_read,
        "output_tokens": usage.output,
    }
    if usage.reasoning:
        shown["output_tokens_details"] = {"thinking_tokens": usage.reasoning}
    return shown

"""Kimi's automatic context cache, emulated on the rendered prompt (docs/kimi.md §12, §20).

Kimi caches "a stable prefix" of what it actually feeds the model: the request as its chat
template renders it, not the JSON messages. So the emulator renders each request the way a
template reads it and reports as cached the longest common prefix with a request it has seen
recently for the same key and model:

- what a template reads counts, byte for byte: roles, text, reasoning, tool-call ids, names and
  argument strings, tool-result ids and text, the tools' names, descriptions and schemas (dumped
  in the key order sent, as a template's `tojson` does);
- what it does not read does not count: the order of keys in a message object, Anthropic's
  `cache_control` markers (Claude Code moves them every turn), signatures, sampling fields.

The match is on the characters of the rendered text. The emulator counts prompt tokens per
message (tokens.py), so the reported count is the prompt tokens of the head (tools) and of every
message wholly inside the matched prefix, rounded down to `prefix_cache.block_tokens`. §12
documents no block size or minimum, so the default block is 1. Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import orjson

from kimi_gateway.emulator import tokens

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def _dump(value: Any) -> str:
    """JSON text in the order sent (a template's tojson); never raises."""
    try:
        return orjson.dumps(_without_cache_control(value), option=_JSON_OPTIONS).decode()
    except TypeError:
        return repr(value)


def _without_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_control(v) for v in value]
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else _dump(value)


# --- the OpenAI faces -------------------------------------------------------------------------


def _openai_tool(tool: Any) -> str:
    if not isinstance(tool, dict):
        return _dump(tool)
    function = tool.get("function")
    if not isinstance(function, dict):
        return _dump(tool)
    name, description = _text(function.get("name")), _text(function.get("description"))
    return f"<|tool|>{name}\n{description}\n{_dump(function.get('parameters'))}"


def _openai_content(content: Any) -> str:
    if not isinstance(content, list):
        return _text(content)
    out: list[str] = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            out.append(_text(part.get("text")))
        else:
            out.append(f"<|media|>{_dump(part)}")
    return "".join(out)


def _openai_call(call: Any) -> str:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        return f"<|call|>{_dump(call)}"
    function = call["function"]
    arguments = _text(function.get("arguments"))
    return f"<|call|>{_text(call.get('id'))}|{_text(function.get('name'))}|{arguments}"


def _openai_message(message: Any) -> str:
    if not isinstance(message, dict):
        return f"<|msg|>{_dump(message)}<|end|>"
    role = _text(message.get("role"))
    head = f"<|{role}|>{_text(message.get('name'))}<|middle|>"
    reasoning = message.get("reasoning_content")
    think = f"<|think|>{_text(reasoning)}<|/think|>" if reasoning is not None else ""
    calls = message.get("tool_calls")
    called = "".join(_openai_call(c) for c in calls) if isinstance(calls, list) else ""
    answered = message.get("tool_call_id")
    result = f"<|result|>{_text(answered)}|" if answered is not None else ""
    return f"{head}{think}{result}{_openai_content(message.get('content'))}{called}<|end|>"


def render_openai(body: dict[str, Any]) -> tuple[str, ...]:
    """A Chat Completions request as a chat template would lay it out: the tools, then each
    message (one segment each)."""
    tools = body.get("tools")
    head = "".join(_openai_tool(t) for t in tools) if isinstance(tools, list) else ""
    messages = body.get("messages")
    rendered = [_openai_message(m) for m in messages] if isinstance(messages, list) else []
    return (f"<|tools|>{head}<|/tools|>", *rendered)


# --- the Anthropic faces ----------------------------------------------------------------------


def _anthropic_tool(tool: Any) -> str:
    if not isinstance(tool, dict):
        return _dump(tool)
    name, description = _text(tool.get("name")), _text(tool.get("description"))
    return f"<|tool|>{name}\n{description}\n{_dump(tool.get('input_schema'))}"


def _anthropic_blocks(content: Any) -> str:
    if not isinstance(content, list):
        return _text(content)
    return "".join(_anthropic_block(b) for b in content)


def _anthropic_block(block: Any) -> str:
    if not isinstance(block, dict):
        return _dump(block)
    kind = block.get("type")
    if kind == "text":
        return _text(block.get("text"))
    if kind == "thinking":  # the signature is an envelope, not something the model reads
        return f"<|think|>{_text(block.get('thinking'))}<|/think|>"
    if kind == "tool_use":
        name, arguments = _text(block.get("name")), _dump(block.get("input"))
        return f"<|call|>{_text(block.get('id'))}|{name}|{arguments}"
    if kind == "tool_result":
        error = "<|error|>" if block.get("is_error") else ""
        inner = _anthropic_blocks(block.get("content"))
        return f"<|result|>{_text(block.get('tool_use_id'))}|{error}{inner}<|/result|>"
    return f"<|media|>{_dump(block)}"


def _anthropic_message(message: Any) -> str:
    if not isinstance(message, dict):
        return f"<|msg|>{_dump(message)}<|end|>"
    role = _text(message.get("role"))
    return f"<|{role}|><|middle|>{_anthropic_blocks(message.get('content'))}<|end|>"


def render_anthropic(body: dict[str, Any]) -> tuple[str, ...]:
    """A Messages request as a chat template would lay it out: the tools, the system prompt
    as a message, then each message (one segment each)."""
    tools = body.get("tools")
    head = "".join(_anthropic_tool(t) for t in tools) if isinstance(tools, list) else ""
    system = body.get("system")
    prompt = [f"<|system|><|middle|>{_anthropic_blocks(system)}<|end|>"] if system else []
    messages = body.get("messages")
    rendered = [_anthropic_message(m) for m in messages] if isinstance(messages, list) else []
    return (f"<|tools|>{head}<|/tools|>", *prompt, *rendered)


def render_neutral(head: Iterable[str], messages: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """A request the caller has already reduced to text (a TurnInput built by hand)."""
    return ("<|tools|>" + "|".join(head), *("<|part|>" + "|".join(m) for m in messages))


# --- matching ---------------------------------------------------------------------------------


def cache_scope(key: str | None, cache_key: Any, split: bool) -> str:
    """Whose cache a request may hit: its API key's and, with `split`, only the requests that
    name the same client cache key (`prompt_cache_key`, §5.1, §12: it "raises the hit rate";
    Kimi Code's Anthropic face keys on `metadata.user_id`, §13.1)."""
    named = cache_key if split and isinstance(cache_key, str) else ""
    return f"{key or ''}\x00{named}"


def common_prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix (slice comparisons run at C speed)."""
    limit = min(len(a), len(b))
    if a[:limit] == b[:limit]:
        return limit
    low, high = 0, limit  # a[:low] == b[:low] and a[:high] != b[:high]
    while high - low > 1:
        middle = (low + high) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle
    return low


class PrefixCache:
    """The rendered prompts seen recently, per scope (key and model), least recently used out."""

    def __init__(self, entries_per_scope: int) -> None:
        self._capacity = max(entries_per_scope, 1)
        self._seen: dict[str, OrderedDict[str, None]] = {}

    def match(self, scope: str, rendered: str) -> int:
        """Characters of `rendered` already seen as a prefix in `scope`; then remember it."""
        seen = self._seen.setdefault(scope, OrderedDict())
        best = 0
        for earlier in reversed(seen):
            best = max(best, common_prefix_length(earlier, rendered))
            if best == len(rendered):
                break
        seen[rendered] = None
        seen.move_to_end(rendered)
        while len(seen) > self._capacity:
            seen.popitem(last=False)
        return best


def cached_tokens(
    segments: tuple[str, ...],
    matched_chars: int,
    weights: list[int] | None,
    prompt: int,
    block: int,
) -> int:
    """The prompt tokens reported cached: the segments (head, messages) wholly inside the
    matched prefix, each at its prompt tokens (`weights`; without them, at its share of the
    rendered tokens), rounded down to whole blocks. The emulator counts tokens per message, so a
    message matched only in part counts for nothing."""
    end, whole = 0, 0
    for segment in segments:
        end += len(segment)
        if end > matched_chars:
            break
        whole += 1
    if weights is not None and len(weights) == len(segments):
        cached = sum(weights[:whole])
    else:
        counts = [tokens.count_text_tokens(s) for s in segments]
        cached = prompt * sum(counts[:whole]) // max(sum(counts), 1)
    step = max(block, 1)
    return min(cached, prompt) // step * step

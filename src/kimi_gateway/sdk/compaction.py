"""Pure helpers for keeping a conversation inside a context window: a local token estimate
(the fallback when Kimi's estimate endpoint cannot answer), turns that never split a tool call
from its result, and the transcript a summary is written from. No I/O.

A *turn* starts at a user message and runs to the next one: an assistant message with
``tool_calls`` is always followed by its ``tool`` messages before any user message (docs/kimi.md
§8.2), so cutting only in front of user messages never separates a call from its result.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

Message = dict[str, Any]

MESSAGE_OVERHEAD = 4  # role and framing tokens per message (an estimate: erring high)
_PIECES = re.compile(r"[^\W\d_]+|\d+|[^\w\s]|_+", re.UNICODE)
_WIDE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def estimate_text(text: str) -> int:
    """Tokens of ``text``, erring high: a word is a token per 4 letters, a number one per 3
    digits, each symbol one, each CJK character one (BPE tokenizers, Kimi's included, do
    better on all of these)."""
    total = 0
    for piece in _PIECES.findall(text):
        wide = len(_WIDE.findall(piece))
        narrow = len(piece) - wide
        size = 3 if piece[0].isdigit() else 4
        total += wide + (math.ceil(narrow / size) if narrow else 0)
    return total


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, Mapping)]
        return " ".join(t for t in texts if isinstance(t, str))
    return ""


def message_text(message: Mapping[str, Any]) -> str:
    """Every piece of text a message sends: content, reasoning, tool-call names and arguments."""
    pieces = [_content_text(message.get("content"))]
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str):
        pieces.append(reasoning)
    for call in message.get("tool_calls") or []:
        function = call.get("function", {}) if isinstance(call, Mapping) else {}
        pieces.extend(str(function.get(key, "")) for key in ("name", "arguments"))
    return "\n".join(p for p in pieces if p)


def estimate_messages(messages: Sequence[Mapping[str, Any]]) -> int:
    """The local estimate of a request's input tokens."""
    return sum(MESSAGE_OVERHEAD + estimate_text(message_text(m)) for m in messages)


def split_turns(messages: Sequence[Message]) -> list[list[Message]]:
    """Messages grouped into turns, each starting at a user message (anything before the
    first user message is a turn of its own)."""
    turns: list[list[Message]] = []
    for message in messages:
        if message.get("role") == "user" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def turns_to_drop(sizes: Sequence[int], fixed: int, target: int) -> int:
    """How many of the oldest turns (``sizes`` in tokens) to fold into the summary so that
    ``fixed`` (system messages plus the summary's allowance) and the rest fit in ``target``;
    the newest turn always stays."""
    remaining = sum(sizes)
    for dropped, size in enumerate(sizes[:-1]):
        if fixed + remaining <= target:
            return dropped
        remaining -= size
    return max(len(sizes) - 1, 0)


def transcript(turns: Sequence[Sequence[Mapping[str, Any]]]) -> str:
    """The turns as plain text for a summary: who said what, tool calls and their results."""
    lines = []
    for turn in turns:
        for message in turn:
            role = str(message.get("role", "?"))
            text = _content_text(message.get("content"))
            if role == "tool":
                lines.append(f"[tool result {message.get('name') or ''}]: {text}")
                continue
            if text:
                lines.append(f"[{role}]: {text}")
            for call in message.get("tool_calls") or []:
                function = call.get("function", {}) if isinstance(call, Mapping) else {}
                lines.append(
                    f"[{role} called {function.get('name')}]: {function.get('arguments', '')}"
                )
    return "\n".join(lines)


def chunks_within(turns: Sequence[list[Message]], limit: int) -> list[list[list[Message]]]:
    """Consecutive groups of turns, each estimated at most ``limit`` tokens (a turn larger
    than ``limit`` is a group of its own)."""
    groups: list[list[list[Message]]] = []
    size = 0
    for turn in turns:
        tokens = estimate_messages(turn)
        if not groups or size + tokens > limit:
            groups.append([])
            size = 0
        groups[-1].append(turn)
        size += tokens
    return groups

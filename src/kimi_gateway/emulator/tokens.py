"""Deterministic token counting for the emulator (not Kimi's tokenizer, only plausible).

A text is cut into pieces: runs of up to 8 letters, up to 3 digits, or one other non-space
character, each with its leading whitespace; trailing whitespace is one more piece. Joining the
pieces gives the text back, so the same pieces serve as stream deltas and as the completion
token count. Prompt accounting adds a fixed overhead per message and per offered tool, in the
spirit of chat templates. Nothing here knows about HTTP or dialects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PIECE = re.compile(r"\s*(?:[A-Za-z]{1,8}|[0-9]{1,3}|[^\sA-Za-z0-9])|\s+")

MESSAGE_OVERHEAD = 4  # role markers of a chat template
TOOL_OVERHEAD = 8  # declaration wrapper of one offered tool
REQUEST_OVERHEAD = 3  # assistant-turn primer
TOOL_CALL_OVERHEAD = 4  # call wrapper of one generated tool call


def token_pieces(text: str) -> list[str]:
    """The text cut into token-sized pieces; `"".join(token_pieces(t)) == t`."""
    return _PIECE.findall(text)


def count_text_tokens(text: str) -> int:
    return len(token_pieces(text))


def truncate_to_tokens(text: str, limit: int) -> str:
    """The first `limit` tokens of the text."""
    return "".join(token_pieces(text)[: max(limit, 0)])


def message_tokens(role: str, text: str, tool_result_texts: Iterable[str] = ()) -> int:
    """Prompt tokens of one message: overhead + role + text + carried tool results."""
    results = sum(count_text_tokens(t) for t in tool_result_texts)
    return MESSAGE_OVERHEAD + count_text_tokens(role) + count_text_tokens(text) + results


def tools_tokens(tool_names: Iterable[str]) -> int:
    return sum(TOOL_OVERHEAD + count_text_tokens(name) for name in tool_names)


def tool_call_tokens(name: str, arguments: str) -> int:
    return TOOL_CALL_OVERHEAD + count_text_tokens(name) + count_text_tokens(arguments)


def group_pieces(text: str, per_chunk: int) -> list[str]:
    """Stream deltas: consecutive pieces joined `per_chunk` at a time (never empty strings)."""
    pieces = token_pieces(text)
    step = max(per_chunk, 1)
    return ["".join(pieces[i : i + step]) for i in range(0, len(pieces), step)]

"""Wire-level Kimi fix-ups: rules that only exist in one wire format, applied to the body the
dialect rendered. Each returns a new dict; the argument is never changed.

The openai_chat dialect already renders ``max_completion_tokens`` (docs/kimi.md §5.1) and the
``thinking`` / ``reasoning_effort`` fields from the ThinkingConfig that quirks_thinking settled;
:func:`fix_openai_wire` makes sure the body keeps only the thinking field the model takes, and
covers what the canonical model cannot say: the bare ``builtin_function`` declaration there, and
(:func:`message_fix`, applied as each message is rendered) ``content`` omitted rather than null
beside tool calls and a non-empty ``tool`` message.
What does not belong here: anything that changes meaning (that is a request-level quirk with a
diagnostic).
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from kimi_gateway.dialects.openai_chat.message_render import MessageFix
from kimi_gateway.upstreams.kimi.profiles import ModelProfile

EMPTY_TOOL_TEXT = "(empty)"  # the policy default of quirks_messages.fill_empty_tool_results
# §5.2 [?]: not in any Kimi spec; the request-level quirks already recorded their loss.
_OPENAI_UNSUPPORTED = ("parallel_tool_calls", "user", "metadata", "functions", "function_call")


def fix_openai_wire(body: dict[str, Any], profile: ModelProfile) -> dict[str, Any]:
    """A Chat Completions body as Kimi's OpenAI faces take it (§5, §8), its messages aside:
    those are fixed as they are rendered, by :func:`message_fix` (once per message object,
    dialects/openai_chat/message_render.py)."""
    out = dict(body)  # shallow: nested values are replaced, never changed in place
    if "max_tokens" in out:  # §5.1 [O]: max_completion_tokens is the preferred name
        out.setdefault("max_completion_tokens", out.pop("max_tokens"))
    for key in _OPENAI_UNSUPPORTED:
        out.pop(key, None)
    _thinking_fields(out, profile)
    if "tools" in out:
        out["tools"] = [_tool(t) for t in out["tools"]]
    return out


def _thinking_fields(out: dict[str, Any], profile: ModelProfile) -> None:
    """§4.2 [O]: k2.5/k2.6/k2.7-code take ``thinking.type`` (+ ``keep``), k3 takes
    ``reasoning_effort``, older models neither; ``budget_tokens`` is not a Kimi field."""
    control = profile.thinking_control
    thinking = out.get("thinking")
    if isinstance(thinking, dict):
        thinking = out["thinking"] = dict(thinking)  # the caller's dict stays as it was
        thinking.pop("budget_tokens", None)
        if thinking.get("keep") is not None and thinking["keep"] not in profile.keep_values:
            thinking.pop("keep")
    if control != "thinking_type":
        out.pop("thinking", None)
    if control != "reasoning_effort":
        out.pop("reasoning_effort", None)


@lru_cache(maxsize=16)  # one per policy text: the same fix-up each request
def message_fix(empty_tool_text: str = EMPTY_TOOL_TEXT) -> MessageFix:
    """The fix-up of each message :func:`fix_openai_wire` applies, to render with."""
    return ("kimi.wire", empty_tool_text), partial(_message, empty_tool_text=empty_tool_text)


def _message(message: Any, empty_tool_text: str) -> Any:
    if not isinstance(message, dict):
        return message
    role = message.get("role")
    content = message.get("content")
    if role == "assistant" and message.get("tool_calls") and content in (None, "", []):
        # §8.2 [O-code] KOSONG-PY: omit content beside tool calls ("text content is empty").
        return {k: v for k, v in message.items() if k != "content"}
    if role == "tool" and content in (None, "", []):
        # docs/kimi.md §F2.9: a tool message without content is a 400.
        return {**message, "content": empty_tool_text}
    return message


def _tool(tool: Any) -> Any:
    """§8.5 [O]: a built-in is declared by its name alone."""
    if isinstance(tool, dict) and tool.get("type") == "builtin_function":
        function = tool.get("function") or {}
        return {"type": "builtin_function", "function": {"name": function.get("name")}}
    return tool


def fix_anthropic_wire(body: dict[str, Any], profile: ModelProfile) -> dict[str, Any]:
    """A Messages body as Kimi's Anthropic faces take it (§13.3, §14).

    Empty ``system`` is left out (an empty text block is a 400, §2.3); ``thinking.keep`` goes
    unless the model takes it; nothing else differs from the dialect's rendering today.
    """
    out = dict(body)  # shallow: nested values are replaced, never changed in place
    if out.get("system") in ("", []):
        out.pop("system")
    thinking = out.get("thinking")
    if isinstance(thinking, dict) and thinking.get("keep") not in (None, *profile.keep_values):
        out["thinking"] = {k: v for k, v in thinking.items() if k != "keep"}
    return out

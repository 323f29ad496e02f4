"""From a script.ReplyPlan to the Anthropic faces' reply: ids, blocks, usage, stream parts.

What belongs here: message ids, tool-use ids, signed thinking blocks, the stop-reason mapping,
`stop_sequences`, and the fault shapes of a stream (a cut, a mid-stream content filter). The
wire rendering itself is `anthropic_stream`; HTTP is `anthropic_face`.

- Tool-use ids: Kimi's own ids are `<name>:<n>` (§8.1), which Anthropic's id pattern
  `^[a-zA-Z0-9_-]+$` does not allow (docs/kimi.md §F2.5), so the Anthropic faces apply the rule
  Moonshot's own client applies to ids: characters outside `[A-Za-z0-9_-]` become `_`
  ([O-code] KOSONG-TS tool-call-id.ts) — `Bash:3` is sent as `Bash_3`. The counter is shared
  with the OpenAI faces (state.next_tool_call_id).
- Stop reasons (§14 [3M] HALRO): stop → `end_turn`, length → `max_tokens`, tool_calls →
  `tool_use`; a content filter in mid-stream ends the message with `refusal` (also in §14's
  list), since the platform route sends no `error` events.
- `stop_sequences` are honoured, but the cut reply reports `stop_reason: "end_turn"` with a null
  `stop_sequence` ([3M] HALRO kimi-code-subscription-evidence, Messages face).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import orjson

from kimi_gateway.emulator.anthropic_signing import sign_thinking
from kimi_gateway.emulator.anthropic_stream import (
    AnthropicReply,
    Event,
    ReplyBlock,
    ReplyUsage,
    encode_event,
    message_body,
    stream_events,
)
from kimi_gateway.emulator.errors import EmulatorError
from kimi_gateway.emulator.script import ReplyPlan, ScriptedToolCall
from kimi_gateway.emulator.state import EmulatorState
from kimi_gateway.emulator.wire import CUT, Part

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_-]")


def next_id(state: EmulatorState, prefix: str, length: int) -> str:
    """A deterministic id per request, from the seed and the shared request counter."""
    with state.lock:
        state.request_counter += 1
        counter = state.request_counter
    digest = hashlib.sha256(f"{state.config.seed}:{counter}:anthropic".encode()).hexdigest()
    return prefix + digest[:length]


def anthropic_tool_id(state: EmulatorState, name: str) -> str:
    return _NOT_ID_CHAR.sub("_", state.next_tool_call_id(name))


def _tool_block(state: EmulatorState, call: ScriptedToolCall) -> ReplyBlock:
    try:
        arguments = orjson.loads(call.arguments)
    except orjson.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        # A tool_use input must be an object; a script asking for anything else is a test bug.
        raise EmulatorError(
            500, f"scripted tool arguments are not a JSON object: {call.arguments}", "server_error"
        )
    return ReplyBlock(
        "tool_use", call.arguments, tool_id=anthropic_tool_id(state, call.name), name=call.name
    )


def _apply_stop(text: str, stop_sequences: tuple[str, ...]) -> tuple[str, bool]:
    hits = [text.find(s) for s in stop_sequences if s and s in text]
    return (text[: min(hits)], True) if hits else (text, False)


def build_reply(
    state: EmulatorState,
    plan: ReplyPlan,
    *,
    model: str,
    stop_sequences: tuple[str, ...],
    signing_key: bytes,
) -> AnthropicReply:
    """The reply a successful plan describes (raises EmulatorError for unusable scripts)."""
    blocks: list[ReplyBlock] = []
    if plan.reasoning is not None:
        signature = sign_thinking(signing_key, plan.reasoning)
        blocks.append(ReplyBlock("thinking", plan.reasoning, signature=signature))
    text, stopped = _apply_stop(plan.text, stop_sequences)
    if text:
        blocks.append(ReplyBlock("text", text))
    calls = () if stopped else plan.tool_calls
    blocks.extend(_tool_block(state, call) for call in calls)
    finish = "stop" if stopped else plan.finish
    usage = ReplyUsage(
        input_tokens=plan.prompt_tokens - plan.cached_tokens,
        cache_read_input_tokens=plan.cached_tokens,
        output_tokens=plan.completion_tokens,
        thinking_tokens=plan.reasoning_tokens,
    )
    return AnthropicReply(
        message_id=next_id(state, "msg_", 24),
        model=model,
        blocks=tuple(blocks),
        stop_reason=_STOP_REASONS.get(finish, "end_turn"),
        usage=usage,
    )


def json_parts(reply: AnthropicReply, plan: ReplyPlan) -> tuple[bytes, list[Part] | None]:
    """The JSON body; with a cut, also the parts that send half of it and drop the line."""
    body = orjson.dumps(message_body(reply))
    if not plan.cut:
        return body, None
    return body, [body[: len(body) // 2], CUT]


def _refusal_tail(reply: AnthropicReply, open_block: int | None) -> list[Event]:
    tail: list[Event] = []
    if open_block is not None:
        tail.append(("content_block_stop", {"type": "content_block_stop", "index": open_block}))
    refused = replace(reply, stop_reason="refusal")
    tail.extend(stream_events(refused)[-2:])  # message_delta, message_stop
    return tail


def _shortened(events: list[Event], reply: AnthropicReply, plan: ReplyPlan) -> list[Part]:
    """Stop after `n` content deltas: drop the line (cut) or end with `refusal` (filter)."""
    refuse = plan.mid_error is not None
    limit = plan.mid_after if refuse else plan.cut_after
    parts: list[Part] = []
    deltas = 0
    open_block: int | None = None
    for name, data in events:
        if name == "message_delta" or (name == "content_block_delta" and deltas >= limit):
            break
        parts.append(encode_event((name, data)))
        deltas += name == "content_block_delta"
        if name == "content_block_start":
            open_block = data["index"]
        elif name == "content_block_stop":
            open_block = None
    if refuse:
        return parts + [encode_event(e) for e in _refusal_tail(reply, open_block)]
    return [*parts, CUT]


def stream_parts(reply: AnthropicReply, plan: ReplyPlan, *, ping: bool) -> list[Part]:
    """Every SSE frame of the reply in order, shortened by a cut or a mid-stream filter."""
    events = stream_events(reply, ping=ping)
    if plan.mid_error is not None or plan.cut:
        return _shortened(events, reply, plan)
    return [encode_event(e) for e in events]

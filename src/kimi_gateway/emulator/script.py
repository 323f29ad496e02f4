"""The scripted-turn engine shared by every face: markers in, a dialect-neutral ReplyPlan out.

Each face turns its request into a `TurnInput`; `plan_reply` reads the markers of the trailing
user messages (every message after the last assistant one), draws faults, applies the rate
limits and the balance, accounts usage (cached tokens: the rendered prefix already seen, §12,
prompt_cache.py) and charges the balance. The face renders the plan in its dialect. Markers:

    @@tool:NAME {json}@@   call NAME (only if offered) with these arguments, byte-exact
    @@thinking@@ / @@think:TEXT@@   start with reasoning (default text / TEXT)
    @@text:TEXT@@          reply TEXT
    @@error:STATUS@@ / @@error:STATUS:TYPE@@   answer that error
    @@delay:MS@@           wait MS before the first byte
    @@cut@@                drop the connection mid-stream

Markers in tool results of the trailing messages count too, so a tool can script the next step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kimi_gateway.emulator import balance, limits, prompt_cache, tokens
from kimi_gateway.emulator.errors import EmulatorError, scripted_error
from kimi_gateway.emulator.faults import FaultEffect, draw_faults
from kimi_gateway.emulator.state import EmulatorState

DEFAULT_REPLY = "Hello! This is the Kimi emulator's default reply."
DEFAULT_REASONING = "The user wrote to me. I will answer with the scripted reply."
TOOL_RESULT_PREFIX = "TOOL_RESULT_SEEN: "
DEFAULT_CUT_AFTER = 2  # stream chunks sent before a `@@cut@@` drops the connection

_MARKER = re.compile(r"@@(tool|think|text|error|delay):(.*?)@@|@@(thinking|cut)@@", re.DOTALL)


@dataclass(frozen=True)
class NeutralMessage:
    role: str  # "system" | "user" | "assistant" | "tool"
    text: str  # all text of the message joined
    tool_result_texts: tuple[str, ...] = ()  # tool messages / tool_result blocks
    images: int = 0  # image parts or blocks (tool results included); they carry no text


@dataclass(frozen=True)
class TurnInput:
    """A dialect-neutral view of the request, built by each face."""

    model: str
    messages: tuple[NeutralMessage, ...]
    offered_tools: tuple[str, ...]
    thinking: bool
    max_tokens: int | None
    # The request path: fault rules filter on it, and "/coding…" (Kimi Code) draws no balance.
    path: str = ""
    # The request as Kimi's template lays it out (prompt_cache.py) and whose cache it may hit
    # (the key): the faces fill them in; empty, the neutral view is rendered, in one scope.
    rendered: tuple[str, ...] = ()
    cache_scope: str = ""


@dataclass(frozen=True)
class ScriptedToolCall:
    name: str
    arguments: str  # JSON text, byte-exact


@dataclass(frozen=True)
class ReplyPlan:
    reasoning: str | None
    text: str
    tool_calls: tuple[ScriptedToolCall, ...]
    finish: str  # "stop" | "length" | "tool_calls"
    error: EmulatorError | None
    delay_ms: int
    cut: bool
    prompt_tokens: int  # includes cached (OpenAI convention)
    cached_tokens: int
    completion_tokens: int  # includes reasoning tokens
    reasoning_tokens: int
    # Extensions beyond the shared contract (all defaulted): fault effects on the stream.
    cut_after: int = DEFAULT_CUT_AFTER
    chunk_delay_ms: int = 0
    mid_error: EmulatorError | None = None
    mid_after: int = 0


@dataclass
class _Script:
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)
    reasoning: str | None = None
    text: str | None = None
    error: EmulatorError | None = None
    delay_ms: int = 0
    cut: bool = False


def trailing_messages(messages: tuple[NeutralMessage, ...]) -> tuple[NeutralMessage, ...]:
    """Messages after the last assistant one (before it, when a partial assistant ends)."""
    end = len(messages)
    if end and messages[-1].role == "assistant":
        end -= 1
    for i in range(end - 1, -1, -1):
        if messages[i].role == "assistant":
            return messages[i + 1 : end]
    return messages[:end]


def _results_of(message: NeutralMessage) -> tuple[str, ...]:
    if message.role == "tool" and not message.tool_result_texts:
        return (message.text,)
    return message.tool_result_texts


def _apply_marker(script: _Script, kind: str, value: str, offered: tuple[str, ...]) -> None:
    if kind == "tool":
        name, _, arguments = value.strip().partition(" ")
        if name in offered:
            script.tool_calls.append(ScriptedToolCall(name, arguments.strip() or "{}"))
    elif kind == "thinking":
        script.reasoning = DEFAULT_REASONING
    elif kind == "think":
        script.reasoning = value
    elif kind == "text":
        script.text = value if script.text is None else script.text + value
    elif kind == "error":
        status, _, type_ = value.partition(":")
        if status.strip().isdigit():
            script.error = scripted_error(int(status), type_.strip() or None)
    elif kind == "delay":
        script.delay_ms = int(value) if value.strip().isdigit() else 0
    elif kind == "cut":
        script.cut = True


def parse_script(turn: TurnInput) -> tuple[_Script, tuple[str, ...]]:
    """The markers of the trailing messages, and the tool results those messages carry."""
    script = _Script()
    results: list[str] = []
    for message in trailing_messages(turn.messages):
        carried = _results_of(message)
        results.extend(carried)
        sources = list(carried)
        if message.role == "user":
            sources.insert(0, message.text)
        for source in sources:
            for m in _MARKER.finditer(source):
                kind = m.group(1) or m.group(3)
                _apply_marker(script, kind, m.group(2) or "", turn.offered_tools)
    return script, tuple(results)


def prompt_tokens_of(turn: TurnInput) -> int:
    """Prompt tokens of the whole request (also the token-estimate endpoint's answer)."""
    total = tokens.REQUEST_OVERHEAD + tokens.tools_tokens(turn.offered_tools)
    for m in turn.messages:
        total += tokens.message_tokens(m.role, m.text, m.tool_result_texts)
    return total


def _rendered(turn: TurnInput) -> tuple[str, ...]:
    """The face's rendering, or one from the neutral view (a TurnInput built by hand)."""
    if turn.rendered:
        return turn.rendered
    messages = [(m.role, m.text, *m.tool_result_texts) for m in turn.messages]
    return prompt_cache.render_neutral(turn.offered_tools, messages)


def _cached_tokens(turn: TurnInput, state: EmulatorState, prompt: int) -> int:
    """Kimi's cache matches the rendered prefix per key and model (prompt_cache.py, §12)."""
    segments = _rendered(turn)
    weights = [tokens.REQUEST_OVERHEAD + tokens.tools_tokens(turn.offered_tools)]
    weights += [tokens.message_tokens(m.role, m.text, m.tool_result_texts) for m in turn.messages]
    scope = f"{turn.cache_scope}\x00{turn.model}"
    with state.lock:
        matched = state.prefix_cache.match(scope, "".join(segments))
    block = state.config.prefix_cache.block_tokens
    return prompt_cache.cached_tokens(segments, matched, weights, prompt, block)


def _reply_text(script: _Script, results: tuple[str, ...]) -> str:
    if results:
        text = TOOL_RESULT_PREFIX + "\n".join(results)
        return text if script.text is None else f"{text}\n{script.text}"
    if script.text is not None:
        return script.text
    return "" if script.tool_calls else DEFAULT_REPLY


def _admission_error(
    turn: TurnInput, state: EmulatorState, script: _Script, effect: FaultEffect, prompt: int
) -> EmulatorError | None:
    if script.error is not None:
        return script.error
    if effect.error is not None:
        return effect.error
    try:
        limits.admit(state, prompt, turn.max_tokens)
        if not turn.path.startswith("/coding"):
            balance.ensure_funds(state)
    except EmulatorError as err:
        return err
    return None


def plan_reply(turn: TurnInput, state: EmulatorState) -> ReplyPlan:
    """Decide the whole reply for one request (side effects: counters, cache, balance)."""
    effect = draw_faults(state, turn.path, turn.model)
    script, results = parse_script(turn)
    prompt = prompt_tokens_of(turn)
    delay = script.delay_ms + effect.delay_ms
    error = _admission_error(turn, state, script, effect, prompt)
    if error is not None:
        return ReplyPlan(None, "", (), "stop", error, delay, False, prompt, 0, 0, 0)
    cached = _cached_tokens(turn, state, prompt)
    reasoning = script.reasoning
    if reasoning is None and turn.thinking:
        reasoning = DEFAULT_REASONING
    plan = _budgeted(
        reasoning, _reply_text(script, results), tuple(script.tool_calls), turn.max_tokens
    )
    if not turn.path.startswith("/coding"):
        balance.charge(state, turn.model, prompt, cached, plan.completion_tokens)
    return ReplyPlan(
        reasoning=plan.reasoning,
        text=plan.text,
        tool_calls=plan.tool_calls,
        finish=plan.finish,
        error=None,
        delay_ms=delay,
        cut=script.cut or effect.cut_after is not None,
        prompt_tokens=prompt,
        cached_tokens=cached,
        completion_tokens=plan.completion_tokens,
        reasoning_tokens=plan.reasoning_tokens,
        cut_after=effect.cut_after if effect.cut_after is not None else DEFAULT_CUT_AFTER,
        chunk_delay_ms=effect.chunk_delay_ms,
        mid_error=effect.mid_error,
        mid_after=effect.mid_after,
    )


@dataclass(frozen=True)
class _Budgeted:
    reasoning: str | None
    text: str
    tool_calls: tuple[ScriptedToolCall, ...]
    finish: str
    completion_tokens: int
    reasoning_tokens: int


def _budgeted(
    reasoning: str | None, text: str, calls: tuple[ScriptedToolCall, ...], budget: int | None
) -> _Budgeted:
    """Spend max_tokens on reasoning, then text, then tool calls (§7.2: reasoning counts)."""
    r_tokens = tokens.count_text_tokens(reasoning) if reasoning is not None else 0
    t_tokens = tokens.count_text_tokens(text)
    c_tokens = sum(tokens.tool_call_tokens(c.name, c.arguments) for c in calls)
    finish = "tool_calls" if calls else "stop"
    if budget is None or r_tokens + t_tokens + c_tokens <= budget:
        return _Budgeted(reasoning, text, calls, finish, r_tokens + t_tokens + c_tokens, r_tokens)
    if reasoning is not None and r_tokens >= budget:
        cut = tokens.truncate_to_tokens(reasoning, budget)
        return _Budgeted(cut, "", (), "length", budget, budget)
    left = budget - r_tokens
    cut_text = tokens.truncate_to_tokens(text, left)
    used = r_tokens + tokens.count_text_tokens(cut_text)
    return _Budgeted(reasoning, cut_text, (), "length", used, r_tokens)

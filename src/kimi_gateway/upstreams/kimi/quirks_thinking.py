"""Fix-ups around thinking: the thinking settings per model, forced tool_choice under thinking,
and the reasoning Kimi demands on earlier tool-call turns.

- :func:`map_thinking_config`: Anthropic budget/adaptive/effort and OpenAI ``reasoning_effort``
  become what the model's wire takes (docs/kimi.md §4.2): ``thinking.type`` (+ ``keep``) on
  k2.5/k2.6/k2.7-code, ``reasoning_effort`` low/high/max on k3, nothing on models without a
  switch. The result is an explicit ThinkingConfig the dialect renders as is.
- :func:`resolve_forced_tool_choice`: §8.4, docs/kimi.md §F2.2.
- :func:`drop_foreign_thinking`: §13.3, docs/kimi.md §F2.6 (issue 9 item 7).
- :func:`restore_reasoning`: §8.3, docs/kimi.md §F2.1, §18.7.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import cast

from kimi_gateway.core import history
from kimi_gateway.core.model import (
    Message,
    Part,
    Request,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    ToolCallPart,
    ToolChoice,
    derived,
)
from kimi_gateway.core.records import replace
from kimi_gateway.upstreams.kimi.policy import QuirkContext, refuse

# Anthropic / OpenAI effort names → k3's (§4.2 [O] low | high | max); the exact ones map silently.
_K3_EFFORT = {
    "minimal": "low",
    "low": "low",
    "medium": "high",
    "high": "high",
    "xhigh": "max",
    "max": "max",
}


def thinking_on(request: Request, ctx: QuirkContext) -> bool:
    """Whether Kimi will think for this request, given the profile and the request's setting."""
    profile = ctx.profile
    if profile.thinking != "switchable":
        return profile.thinking == "always"
    if request.thinking is None:
        return profile.thinking_default_on
    return request.thinking.mode != "disabled"


def _with_thinking(
    request: Request, ctx: QuirkContext, thinking: ThinkingConfig | None, why: str | None
) -> Request:
    diagnostics = request.diagnostics
    if why is not None:
        diagnostics = ctx.note(request, "changed_thinking", why, "thinking")
    return replace(request, thinking=thinking, diagnostics=diagnostics)


def map_thinking_config(request: Request, ctx: QuirkContext) -> Request:
    """The client's thinking settings in the form this model's wire takes (§4.2)."""
    config = request.thinking
    if config is None:
        return request
    if not ctx.openai:
        return _anthropic_thinking(request, ctx, config)
    control = ctx.profile.thinking_control
    if control == "reasoning_effort":
        return _effort_thinking(request, ctx, config)
    if control == "thinking_type":
        return _typed_thinking(request, ctx, config)
    asked_off = config.mode == "disabled"
    if ctx.profile.thinking == "always" and asked_off:
        return _with_thinking(request, ctx, None, f"{request.model} always thinks")
    if ctx.profile.thinking == "none" and not asked_off:
        return _with_thinking(request, ctx, None, f"{request.model} cannot think")
    return replace(request, thinking=None)


def _lost_settings(config: ThinkingConfig) -> list[str]:
    lost = []
    if config.budget_tokens is not None:
        lost.append(f"budget_tokens={config.budget_tokens}")
    if config.effort is not None and config.effort != "none":
        lost.append(f"effort={config.effort}")
    return lost


def _typed_thinking(request: Request, ctx: QuirkContext, config: ThinkingConfig) -> Request:
    """k2.5/k2.6/k2.7-code: ``thinking: {"type": enabled|disabled, "keep"?}`` only."""
    profile = ctx.profile
    off = config.mode == "disabled" or config.effort == "none"
    notes: list[str] = []
    if off and profile.thinking == "always":
        notes.append(f"{request.model} cannot turn thinking off")
        off = False
    keep = config.keep if config.keep in profile.keep_values else None
    if config.keep is not None and keep is None:
        notes.append(f"keep={config.keep!r} is not accepted by {request.model}")
    if not off:
        notes.extend(f"{lost} has no Kimi form" for lost in _lost_settings(config))
    mapped = ThinkingConfig("disabled") if off else ThinkingConfig("enabled", keep=keep)
    return _with_thinking(request, ctx, mapped, "; ".join(notes) or None)


def _effort_thinking(request: Request, ctx: QuirkContext, config: ThinkingConfig) -> Request:
    """k3: ``reasoning_effort`` low | high | max; thinking cannot be turned off (§4.2 [O])."""
    profile = ctx.profile
    notes: list[str] = []
    effort: str | None
    if config.mode == "disabled" or config.effort == "none":
        effort = profile.reasoning_efforts[0] if profile.reasoning_efforts else None
        notes.append(f"{request.model} cannot turn thinking off; reasoning_effort={effort}")
    elif config.effort is not None:
        effort = _K3_EFFORT.get(config.effort)
        if effort is None:
            notes.append(f"effort={config.effort} has no Kimi form; the model default is used")
        elif effort != config.effort:
            notes.append(f"effort={config.effort} sent as reasoning_effort={effort}")
    elif config.budget_tokens is not None:
        effort = _effort_for_budget(config.budget_tokens, ctx)
        notes.append(f"budget_tokens={config.budget_tokens} sent as reasoning_effort={effort}")
    else:
        effort = None  # the model's default (max)
    if effort not in profile.reasoning_efforts:
        effort = None
    mapped = None if effort is None else ThinkingConfig("enabled", effort=effort)
    return _with_thinking(request, ctx, mapped, "; ".join(notes) or None)


def _effort_for_budget(budget: int, ctx: QuirkContext) -> str:
    if budget <= ctx.policy.effort_budget_low:
        return "low"
    return "high" if budget <= ctx.policy.effort_budget_high else "max"


def _anthropic_thinking(request: Request, ctx: QuirkContext, config: ThinkingConfig) -> Request:
    """Kimi's Anthropic faces take Anthropic's thinking as is (§13.3: enabled with
    budget_tokens, adaptive, ``output_config.effort``); only impossible asks are changed."""
    profile = ctx.profile
    if config.mode == "disabled" and profile.thinking == "always":
        return _with_thinking(request, ctx, None, f"{request.model} always thinks")
    if config.mode != "disabled" and profile.thinking == "none":
        return _with_thinking(request, ctx, None, f"{request.model} cannot think")
    return request


def disable_thinking(request: Request, ctx: QuirkContext, why: str) -> Request:
    """Thinking off for this one request (only models with a switch), with a diagnostic."""
    return _with_thinking(request, ctx, ThinkingConfig("disabled"), f"thinking disabled: {why}")


def _can_disable(ctx: QuirkContext) -> bool:
    return ctx.profile.thinking == "switchable"


def resolve_forced_tool_choice(request: Request, ctx: QuirkContext) -> Request:
    """§8.4 [3M] HALRO: ``required``/named tool_choice is a 400 with thinking on k2.5–k2.7
    ("tool_choice 'required' is incompatible with thinking enabled") but fine on k3 and with
    thinking off. Policy: turn thinking off, nudge (LiteLLM), or refuse."""
    choice = request.tool_choice
    # §14 [3M] HALRO: the Anthropic faces accept ``any`` (required); only a named tool clashes.
    forced = ("required", "tool") if ctx.openai else ("tool",)
    if choice is None or choice.mode not in forced:
        return request
    on = thinking_on(request, ctx)
    profile = ctx.profile
    if profile.tool_choice_forced_thinking if on else profile.tool_choice_forced:
        return request
    form = "required" if choice.mode == "required" else f"the tool {choice.name}"
    action = ctx.policy.forced_tool_choice
    if action == "reject":
        raise refuse(
            f"tool_choice forcing {form} is not accepted by {request.model}"
            + (" with thinking on" if on else "")
            + "; use tool_choice auto, or turn thinking off",
            "tool_choice",
        )
    if action == "disable_thinking" and on and _can_disable(ctx) and profile.tool_choice_forced:
        return disable_thinking(request, ctx, f"tool_choice forcing {form} needs it off")
    return _nudge(request, ctx, choice)


def _nudge(request: Request, ctx: QuirkContext, choice: ToolChoice) -> Request:
    """[3C] LITELLM / [O] DOCS-OLD §8.4: drop tool_choice, append a user message asking for it."""
    policy = ctx.policy
    text = policy.nudge_text
    if choice.mode == "tool" and choice.name is not None:
        text = policy.nudge_named_text.format(name=choice.name)
    kept = None if choice.parallel is None else ToolChoice("auto", parallel=choice.parallel)
    detail = f"tool_choice {choice.mode!r} replaced by the user message {text!r}"
    return replace(
        request,
        tool_choice=kept,
        messages=(*request.messages, Message("user", (TextPart(text),))),
        diagnostics=ctx.note(request, "nudged_tool_choice", detail, "tool_choice"),
    )


def _foreign(part: ThinkingPart, ctx: QuirkContext) -> bool:
    """A thinking block this Kimi Anthropic face did not issue: ``redacted_thinking`` (Kimi
    issues none; no source shows one) or a signature it never gave. Unsigned blocks are kept:
    Kimi accepts them on replay (§13.3 [?]; Claude Code replays Kimi's with ``""``)."""
    if part.redacted:
        return True
    issued = ctx.signature_issued
    return bool(part.signature) and issued is not None and not issued(part.signature or "")


def drop_foreign_thinking(request: Request, ctx: QuirkContext) -> Request:
    """Issue 9 item 7: a history moved from Claude to Kimi (a model switch inside Claude Code)
    carries Claude's signed thinking, which Kimi cannot verify; Kimi Code refuses thinking
    blocks not replayed intact (§13.3 [3M] HERMES PR #18898). docs/kimi.md §F2.6: foreign
    blocks are dropped, never faked. Kimi's OpenAI faces take no signatures (the OpenAI
    renderer sends the text as reasoning), so this is for the Anthropic faces only.

    ``unsigned`` keeps a foreign block's text and drops only its signature (Kimi accepts
    unsigned blocks, §13.3 [?]). The signatures a face remembers are per process, so after a
    restart, or on another worker or replica, Kimi's own blocks look foreign: dropped, they
    change the history Kimi sees from that block on and its prefix cache (§12) misses the rest
    of the conversation; unsigned, the text Kimi reads stays the same (issue 15 item 5)."""
    if ctx.openai or ctx.policy.foreign_thinking == "keep":
        return request
    unsign = ctx.policy.foreign_thinking == "unsigned"
    signed = history.indices(request.messages, "kimi.signed_thinking/history", _signs_thinking)
    if not signed:
        return request
    messages = list(request.messages)
    changed: list[str] = []
    for i in signed:  # checked every turn: the signatures a face issued change
        message = messages[i]
        parts = tuple(_settle_foreign(p, ctx, unsign) for p in message.parts)
        kept = tuple(p for p in parts if p is not None)
        if kept != message.parts:
            messages[i] = replace(message, parts=kept)
            changed.append(f"messages[{i}]")
    if not changed:
        return request
    where = ", ".join(changed)
    code, detail = (
        ("unsigned_thinking", f"signatures Kimi did not issue were removed in {where}")
        if unsign
        else ("dropped_thinking", f"thinking blocks Kimi did not sign were dropped from {where}")
    )
    return replace(
        request, messages=tuple(messages), diagnostics=ctx.note(request, code, detail, "messages")
    )


def _signs_thinking(message: Message) -> bool:
    """Whether ``message`` is an assistant turn with a signed or redacted thinking block: the
    only ones :func:`drop_foreign_thinking` may change."""
    if message.role != "assistant":
        return False
    return any(
        isinstance(p, ThinkingPart) and (p.redacted or bool(p.signature)) for p in message.parts
    )


def _settle_foreign(part: Part, ctx: QuirkContext, unsign: bool) -> Part | None:
    """The part as it goes to Kimi: unchanged, without its signature, or None (dropped)."""
    if not isinstance(part, ThinkingPart) or not _foreign(part, ctx):
        return part
    if unsign and not part.redacted:
        return replace(part, signature=None)
    return None


def restore_reasoning(request: Request, ctx: QuirkContext) -> Request:
    """§8.3 [O]: with thinking on, every assistant tool-call message needs its reasoning, else
    400 "thinking is enabled but reasoning_content is missing in assistant tool call message at
    index N" (docs/kimi.md §F2.1). Restore it from the caller's store, else apply the policy.

    The Anthropic faces too: an assistant turn replayed without its thinking while thinking is
    on is reported refused there (§18.7, §2.3 [3M]). An Anthropic client that did not ask for
    thinking never saw Kimi's (engine/hidden_thinking.py), so its next turn always lacks it;
    the placeholder goes as an unsigned thinking block, which Kimi accepts (§13.3 [?])."""
    if not thinking_on(request, ctx):
        return request
    lacking = history.indices(request.messages, "kimi.lacks_reasoning/history", _lacks_reasoning)
    if not lacking:
        return request
    if ctx.reasoning_lookup is None:  # nothing to look up: every one is missing
        return _missing_reasoning(request, ctx, lacking, every=True)
    messages = list(request.messages)
    missing: list[int] = []
    changed = False
    for i in lacking:  # looked up every turn: the store is the caller's, and may change
        restored = _lookup(messages[i], ctx)
        if restored is None:
            missing.append(i)
        else:
            messages[i], changed = _with_reasoning(messages[i], restored), True
    if changed:
        request = replace(request, messages=tuple(messages))
    return _missing_reasoning(request, ctx, missing) if missing else request


def _with_reasoning(message: Message, text: str) -> Message:
    """``message`` with ``text`` as its reasoning: the same object for the same message and
    text, turn after turn, so what is derived from it is kept too (core/model.py ``derived``;
    the placeholder made a new message of each tool round of a long history every turn)."""
    facts = derived(message)
    key = ("kimi.with_reasoning", text)
    made = facts.get(key)
    if made is None:
        made = facts[key] = replace(message, parts=(ThinkingPart(text), *message.parts))
    return cast(Message, made)


def _placeheld(
    messages: Sequence[Message], start: int, end: int, found: tuple[Message, ...], text: str
) -> tuple[Message, ...]:
    """``found`` and messages[start:end], each that lacks reasoning with ``text`` as its own."""
    new = [_with_reasoning(m, text) if _lacks_reasoning(m) else m for m in messages[start:end]]
    return (*found, *new)


def _lacks_reasoning(message: Message) -> bool:
    if message.role != "assistant":
        return False
    facts = derived(message)
    known = facts.get("kimi.lacks_reasoning")
    if known is None:
        known = facts["kimi.lacks_reasoning"] = _lacks(message)
    return bool(known)


def _lacks(message: Message) -> bool:
    calls = any(isinstance(p, ToolCallPart) for p in message.parts)
    shown = any(isinstance(p, ThinkingPart) and not p.redacted for p in message.parts)
    return calls and not shown


def _lookup(message: Message, ctx: QuirkContext) -> str | None:
    if ctx.reasoning_lookup is None:
        return None
    for part in message.parts:
        if isinstance(part, ToolCallPart):
            found = ctx.reasoning_lookup(part.id)
            if found is not None:
                return found
    return None


def _missing_reasoning(
    request: Request, ctx: QuirkContext, missing: Sequence[int], *, every: bool = False
) -> Request:
    """``missing`` (``every``: all the messages that lack reasoning) as the policy says."""
    where = ", ".join(f"messages[{i}]" for i in missing)
    action = ctx.policy.missing_reasoning
    if action == "reject":
        raise refuse(
            f"thinking is on for {request.model} and the assistant tool-call turn(s) {where} "
            "lack their reasoning, which Kimi requires; send the "
            "reasoning_content back, or turn thinking off",
            f"messages[{missing[0]}].reasoning_content",
        )
    if action == "disable_thinking" and _can_disable(ctx):
        return disable_thinking(request, ctx, f"{where} lack reasoning")
    text = ctx.policy.reasoning_placeholder
    if every:  # a pure function of the messages: what a history gave is kept (core/history.py)
        none: tuple[Message, ...] = ()
        step = partial(_placeheld, text=text)
        messages = history.walk(request.messages, ("kimi.placeholder/history", text), step, none)
    else:
        listed = list(request.messages)
        for i in missing:
            listed[i] = _with_reasoning(listed[i], text)
        messages = tuple(listed)
    detail = f"{where}: missing reasoning sent as a placeholder"
    return replace(
        request,
        messages=messages,
        diagnostics=ctx.note(request, "placeholder_reasoning", detail, "messages"),
    )

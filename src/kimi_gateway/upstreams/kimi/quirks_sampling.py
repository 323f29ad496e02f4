"""Fix-ups of the sampling fields: temperature, top_p, n, penalties, stop, max_tokens.

Each function takes the canonical Request and a QuirkContext and returns a new Request; every
change of meaning is recorded as a Diagnostic (or refused in strict mode). Which values a model
takes is profile data (profiles.py, docs/kimi.md §4.2); what to do about a wrong one is policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from kimi_gateway.core import history
from kimi_gateway.core.errors import OneChoicePerCall
from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    Request,
    TextPart,
    Tool,
    ToolResultPart,
    derived,
)
from kimi_gateway.core.records import replace
from kimi_gateway.upstreams.kimi.policy import QuirkContext, SamplingParam, refuse
from kimi_gateway.upstreams.kimi.profiles import Fixed, Range, SamplingRule, Unsupported

_PARAMS: tuple[SamplingParam, ...] = (
    "temperature",
    "top_p",
    "n",
    "presence_penalty",
    "frequency_penalty",
)
# Values whose omission changes nothing on any model (§4.2 [O]: n defaults to 1, penalties 0).
_NEUTRAL: dict[SamplingParam, float] = {"n": 1, "presence_penalty": 0.0, "frequency_penalty": 0.0}
MAX_STOP_ENTRIES = 5  # §5.1 [O]; message §2.3 [3M] HALRO
MAX_STOP_BYTES = 32
_CHARS_PER_TOKEN = 3  # a deliberately high estimate of prompt tokens (fewer chars per token)
_IMAGE_TOKENS = 1024  # §5.2 [O] HC: the flat per-image price before k2.5
# Chat-template markup around each message and tool, and the reply primer: generous guesses.
_BASE_TOKENS, _MESSAGE_TOKENS, _TOOL_TOKENS = 16, 8, 16


def fix_sampling(request: Request, ctx: QuirkContext, thinking: bool) -> Request:
    """Per-model sampling rules (§4.2): fixed values, ranges, parameters a model lacks, and the
    policy's per-model overrides (docs/kimi.md §F2.3). ``thinking`` is the final thinking state,
    which picks the fixed temperature (1.0 on, 0.6 off)."""
    policy = ctx.policy
    untouched = not policy.sampling_overrides  # then a value the client left out stays out
    for param in _PARAMS:
        absent = untouched and getattr(request, param) is None
        if absent and (param != "temperature" or policy.default_temperature is None):
            continue  # every rule leaves an absent value absent (_fix_param)
        request = _fix_param(request, ctx, param, thinking)
    return request


def _rule(ctx: QuirkContext, param: SamplingParam) -> SamplingRule:
    if not ctx.openai and param in ("n", "presence_penalty", "frequency_penalty"):
        return Unsupported()  # Anthropic Messages has no such fields
    rule: SamplingRule = getattr(ctx.profile.sampling, param)
    return rule


def _fix_param(
    request: Request, ctx: QuirkContext, param: SamplingParam, thinking: bool
) -> Request:
    value: float | None = getattr(request, param)
    override = ctx.policy.sampling_override(request.model, param)
    if override is not None:
        if override.action == "pass":
            return request
        if override.action == "omit":
            return _set(request, ctx, param, None, "an override omits it")
        if override.action == "force":
            return _set(request, ctx, param, override.value, "an override forces it", value)
        return _clamp(request, ctx, param, Range(override.low, override.high))
    rule = _rule(ctx, param)
    if param == "n" and not isinstance(rule, Range):
        _one_choice_per_call(request, ctx)
    if isinstance(rule, Unsupported):
        if value is not None and _NEUTRAL.get(param) == value:
            return _assign(request, param, None, request.diagnostics)
        return _set(request, ctx, param, None, f"{request.model} does not take it")
    if isinstance(rule, Fixed):
        return _fixed(request, ctx, param, rule.thinking if thinking else rule.plain)
    if value is None and param == "temperature" and ctx.policy.default_temperature is not None:
        request = replace(request, temperature=ctx.policy.default_temperature)
    return _clamp(request, ctx, param, rule)


def _one_choice_per_call(request: Request, ctx: QuirkContext) -> None:
    """A model that gives one answer per request (n fixed at 1 or absent, §4.2 [O]; Anthropic
    faces have no n): under ``n_on_single_choice_models: fan_out`` (default) the engine makes
    n > 1 n requests (engine/fanout.py) rather than the client getting one answer; ``omit``
    drops n with a diagnostic as for any fixed value."""
    n = request.n
    if n is not None and n > 1 and ctx.policy.n_on_single_choice_models == "fan_out":
        raise OneChoicePerCall(int(n), f"{request.model} gives one answer per request")


def _fixed(request: Request, ctx: QuirkContext, param: SamplingParam, fixed: float) -> Request:
    """§4.2 [O]: a wrong value on a fixed-sampling model is a 400; omitting it is safe."""
    value: float | None = getattr(request, param)
    if value is None or math.isclose(value, fixed, abs_tol=1e-9):
        return request
    why = f"{request.model} only accepts {fixed:g} here"
    if ctx.policy.fixed_sampling == "force":
        return _set(request, ctx, param, fixed, why, value)
    return _set(request, ctx, param, None, why)


def _clamp(request: Request, ctx: QuirkContext, param: SamplingParam, rule: Range) -> Request:
    value: float | None = getattr(request, param)
    if value is None or rule.low <= value <= rule.high:
        return request
    clamped = min(max(value, rule.low), rule.high)
    if param == "n":
        clamped = int(clamped)
    why = f"outside [{rule.low:g}, {rule.high:g}]"
    return _set(request, ctx, param, clamped, why, value)


def _set(
    request: Request,
    ctx: QuirkContext,
    param: SamplingParam,
    new: float | None,
    why: str,
    old: float | None = None,
) -> Request:
    old = getattr(request, param) if old is None else old
    if old is None or old == new:
        return _assign(request, param, new, request.diagnostics)
    if new is None:
        code, detail = "omitted_param", f"{param}={old:g} not sent: {why}"
    else:
        code, detail = "changed_param", f"{param}={old:g} sent as {new:g}: {why}"
    return _assign(request, param, new, ctx.note(request, code, detail, param))


def _assign(
    request: Request, param: SamplingParam, value: float | None, diagnostics: tuple[Diagnostic, ...]
) -> Request:
    old = getattr(request, param)
    if diagnostics is request.diagnostics and old == value and type(old) is type(value):
        return request
    changes: dict[str, Any] = {param: value, "diagnostics": diagnostics}
    return replace(request, **changes)


def raise_temperature_for_n(request: Request, ctx: QuirkContext) -> Request:
    """§4.2 [O] DOCS-OLD: n > 1 with temperature ≈ 0 is a 400 ("only 1 result can be
    returned"). ``fan_out`` (default): the engine sends n requests of one choice each at the
    client's temperature (engine/fanout.py); ``raise_temperature``: [3C] LITELLM raises it to
    0.3; ``reject``: a 400 naming n."""
    if request.n is None or request.n <= 1:
        return request
    temperature = request.temperature
    if temperature is None:
        temperature = ctx.profile.sampling.default_temperature
    floor = ctx.policy.min_temperature_for_n
    if temperature is None or temperature >= floor:
        return request
    if ctx.policy.n_with_low_temperature == "fan_out":
        raise OneChoicePerCall(
            request.n,
            f"Kimi returns only one result when temperature is close to 0 (got {temperature:g})",
        )
    if ctx.policy.n_with_low_temperature == "reject":
        raise refuse(
            f"n={request.n} needs a temperature of at least {floor:g} on Kimi, which returns "
            "only one result when temperature is close to 0",
            "n",
        )
    detail = f"temperature={temperature:g} sent as {floor:g}: n={request.n} needs it"
    return replace(
        request,
        temperature=floor,
        diagnostics=ctx.note(request, "changed_param", detail, "temperature"),
    )


def limit_stop(request: Request, ctx: QuirkContext) -> Request:
    """§5.1 [O]: at most 5 stop sequences of at most 32 bytes each (400 otherwise, §2.3).
    ``enforce`` (default): send Kimi the first 5 that fit; the gateway watches the stream for
    the rest (core/stops.py), so output still stops where the client asked. ``truncate`` cuts
    and drops (Kimi may stop early or late); ``reject`` refuses."""
    stop = request.stop
    too_long = [s for s in stop if len(s.encode()) > MAX_STOP_BYTES]
    if stop and ctx.policy.stop_overflow == "enforce" and _forced_call_checked(request):
        return _watch_all(request)
    if len(stop) <= MAX_STOP_ENTRIES and not too_long:
        return request
    if ctx.policy.stop_overflow == "reject":
        raise refuse(
            f"Kimi accepts at most {MAX_STOP_ENTRIES} stop sequences of at most "
            f"{MAX_STOP_BYTES} bytes each; got {len(stop)}",
            "stop",
        )
    if ctx.policy.stop_overflow == "enforce":
        if request.n is not None and request.n > 1:
            # The gateway's watch cuts one answer's stream: one call per choice (engine/fanout.py).
            raise OneChoicePerCall(request.n, "the gateway watches for stop sequences per answer")
        kept = tuple(s for s in stop if len(s.encode()) <= MAX_STOP_BYTES)[:MAX_STOP_ENTRIES]
        watched = [s for s in stop if s not in kept]
        detail = f"stop {watched!r} enforced by the gateway: Kimi takes ≤ 5 entries of ≤ 32 bytes"
        note = Diagnostic("stop_enforced", detail)  # the meaning is kept: no strict refusal
        return replace(request, stop=kept, diagnostics=(*request.diagnostics, note))
    cut: list[str] = []
    for entry in (_cut_utf8(s, MAX_STOP_BYTES) for s in stop):
        if entry and entry not in cut:
            cut.append(entry)
    kept = tuple(cut[:MAX_STOP_ENTRIES])
    detail = f"stop {list(stop)!r} sent as {list(kept)!r}: Kimi takes ≤ 5 entries of ≤ 32 bytes"
    return replace(
        request, stop=kept, diagnostics=ctx.note(request, "changed_param", detail, "stop")
    )


def _forced_call_checked(request: Request) -> bool:
    """Whether the forced tool call was relaxed (quirks_thinking.py: asked for in words, or
    thinking turned off for it): the engine then checks the reply for the call
    (engine/forced_tools.py ``relaxed_choice``, the same two diagnostics)."""
    for diagnostic in request.diagnostics:
        if diagnostic.code == "nudged_tool_choice":
            return True
        if diagnostic.code == "changed_thinking" and "tool_choice" in diagnostic.detail:
            return True
    return False


def _watch_all(request: Request) -> Request:
    """Every stop sequence watched by the gateway, none sent: Kimi's own stop ends the reply
    with a plain "stop", which the engine cannot tell from a reply without the call, so a
    stop matched in text before the call would be re-asked and answered 502; the gateway's cut
    is reported as a stop sequence, and the cut reply is the answer."""
    if request.n is not None and request.n > 1:
        raise OneChoicePerCall(request.n, "the gateway watches for stop sequences per answer")
    detail = f"stop {list(request.stop)!r} enforced by the gateway: it checks the forced call"
    note = Diagnostic("stop_enforced", detail)
    return replace(request, stop=(), diagnostics=(*request.diagnostics, note))


def _cut_utf8(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits in ``limit`` bytes."""
    return text.encode()[:limit].decode("utf-8", errors="ignore")


def set_max_tokens(request: Request, ctx: QuirkContext) -> Request:
    """The configured default (KIMI_MAX_TOKENS), the model's output cap (§4.1), and the context
    window (§2.2: prompt + max_tokens over the context is a 400 "exceeded model token limit";
    §4.1 [O] HC: the longest output is the context minus the prompt), on every surface (issue 9
    item 8). Anthropic Messages requires the field, so it is filled from the profile there."""
    profile, policy = ctx.profile, ctx.policy
    value = request.max_tokens
    if value is None:
        value = policy.default_max_tokens
    if value is None and not ctx.openai:
        value = profile.default_max_tokens or 32768  # §5.4 [3C] a Kimi Code "max output"
    if value != request.max_tokens:
        request = replace(request, max_tokens=value)
    if value is None:
        return request
    limit = profile.max_output_tokens
    if policy.clamp_max_tokens_to_context and profile.context_window is not None:
        limit = _context_room(request, profile.context_window, policy.max_tokens_floor, limit)
    if limit is None or value <= limit:
        return request
    detail = f"max_tokens={value} sent as {limit}: the model's room for output"
    return replace(
        request,
        max_tokens=limit,
        diagnostics=ctx.note(request, "changed_param", detail, "max_tokens"),
    )


def _context_room(request: Request, context: int, floor: int, cap: int | None) -> int:
    """The context minus a low prompt estimate (half the high one: about 6 characters a
    token, which real text rarely exceeds), never under ``floor`` nor over the context. Low, so
    a request that fits is never cut (the SDK's conversations fill the window to the token by
    Kimi's own count); one the estimate cannot settle is Kimi's to judge."""
    room = context - estimate_prompt_tokens(request) // 2
    room = min(context, max(room, floor))
    return room if cap is None else min(cap, room)


def estimate_prompt_tokens(request: Request) -> int:
    """A rough, high estimate of the prompt's tokens: text characters / 3, images 1024 each,
    plus template markup per message and tool."""
    none: _Sizes = (0, 0, ())
    chars, images, dynamic = history.walk(request.messages, _SIZE_TAG, _sizes, none)
    chars += sum(len(p.text) for p in request.system)
    tools = [*request.tools, *dynamic]  # §5.1 dynamic tools
    for tool in tools:
        facts = derived(tool)
        size = facts.get("kimi.prompt_size")
        if size is None:
            size = facts["kimi.prompt_size"] = len(str(tool.parameters or "")) + len(
                tool.description or ""
            )
        chars += size
    markup = (
        _BASE_TOKENS + _MESSAGE_TOKENS * (len(request.messages) + 1) + _TOOL_TOKENS * len(tools)
    )
    return chars // _CHARS_PER_TOKEN + images * _IMAGE_TOKENS + markup


_SIZE_TAG = "kimi.prompt_size/history"
_Sizes = tuple[int, int, tuple[Tool, ...]]  # characters, images, dynamic tools (in order)


def _sizes(messages: Sequence[Message], start: int, end: int, found: _Sizes) -> _Sizes:
    """``found`` plus what messages[start:end] add (core/history.py ``walk``)."""
    chars, images, dynamic = found
    for i in range(start, end):
        facts = derived(messages[i])  # counted once per message object (core/model.py)
        counted = facts.get("kimi.prompt_size")
        if counted is None:
            counted = facts["kimi.prompt_size"] = _message_size(messages[i])
        chars += counted[0]
        images += counted[1]
        if messages[i].tools:
            dynamic = (*dynamic, *messages[i].tools)
    return chars, images, dynamic


def _message_size(message: Message) -> tuple[int, int]:
    """A message's characters and images, as :func:`estimate_prompt_tokens` counts them."""
    chars = images = 0
    for part in message.parts:
        inner = part.content if isinstance(part, ToolResultPart) else (part,)
        for piece in inner:
            if isinstance(piece, ImagePart):
                images += 1
            elif isinstance(piece, TextPart):
                chars += len(piece.text)
            else:
                chars += len(str(piece))
    return chars, images

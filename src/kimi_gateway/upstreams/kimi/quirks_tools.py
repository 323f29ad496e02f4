"""Fix-ups of tools, and Kimi Code's ``prompt_cache_key``.

Tools: ``$``-prefixed names become Kimi built-ins (§8.5), duplicates go (§13.4), Kimi Code's
128-tool cap is enforced (docs/kimi.md §F2.10), schemas become MFJS (§8.6, schema_mfjs.py).
Kimi Code gets a ``prompt_cache_key`` (§13.1). The other top-level fields Kimi does not take
(and ``user`` → ``safety_identifier``) are ``quirks_fields``' business.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from kimi_gateway.core.model import Request, TextPart, Tool, derived
from kimi_gateway.core.records import replace
from kimi_gateway.upstreams.kimi.policy import QuirkContext, refuse
from kimi_gateway.upstreams.kimi.schema_memo import normalised
from kimi_gateway.upstreams.kimi.schema_mfjs import SchemaError

BUILTIN_PREFIX = "$"  # §8.5 [O-code] KOSONG-PY: "$"-named tools are builtin_function


def mark_builtin_tools(request: Request, ctx: QuirkContext) -> Request:
    """§8.5 [O-code] KOSONG-PY: a tool named ``$…`` (``$web_search``) is declared as
    ``builtin_function``; its calls' arguments are echoed byte-exact (already text)."""
    if not ctx.openai or not any(t.name.startswith(BUILTIN_PREFIX) for t in request.tools):
        return request
    tools = tuple(
        replace(t, kind="builtin_function") if t.name.startswith(BUILTIN_PREFIX) else t
        for t in request.tools
    )
    return replace(request, tools=tools)


def dedupe_tools(request: Request, ctx: QuirkContext) -> Request:
    """§13.4 [O] KCDOCS: "function name {x} is duplicated" — the first declaration is kept."""
    seen: set[str] = set()
    kept: list[Tool] = []
    for tool in request.tools:
        if tool.name in seen:
            detail = f"a second tool named {tool.name!r} was dropped (Kimi rejects duplicates)"
            request = replace(
                request, diagnostics=ctx.note(request, "dropped_tool", detail, "tools")
            )
            continue
        seen.add(tool.name)
        kept.append(tool)
    if len(kept) == len(request.tools):
        return request
    return replace(request, tools=tuple(kept))


def cap_tools(request: Request, ctx: QuirkContext) -> Request:
    """docs/kimi.md §F2.10 (Kimi-K2 #90): Kimi Code takes at most 128 tools ("a max of 128
    tools can be supported"). Refuse with the limit named, or keep the first 128 (policy)."""
    cap = ctx.profile.max_tools
    if cap is None or len(request.tools) <= cap:
        return request
    if not ctx.policy.trim_tools:
        raise refuse(
            f"{len(request.tools)} tools were sent; {request.model} accepts at most {cap}. "
            "Send fewer tools, or set quirks.trim_tools: true in the gateway config to keep "
            f"the first {cap}",
            "tools",
        )
    kept, dropped = request.tools[:cap], request.tools[cap:]
    choice = request.tool_choice
    if choice is not None and choice.mode == "tool" and choice.name not in {t.name for t in kept}:
        raise refuse(f"tool_choice names {choice.name!r}, beyond the first {cap} tools", "tools")
    names = ", ".join(t.name for t in dropped)
    detail = f"only the first {cap} tools were sent (the limit); dropped: {names}"
    return replace(
        request, tools=kept, diagnostics=ctx.note(request, "dropped_tool", detail, "tools")
    )


def normalise_tool_schemas(request: Request, ctx: QuirkContext) -> Request:
    """§8.6: tool parameters (and a strict response_format schema on the OpenAI wire) in
    Moonshot Flavored JSON Schema; each change of what a schema accepts is recorded."""
    tools: list[Tool] = []
    for i, tool in enumerate(request.tools):
        param = f"tools[{i}].function.parameters"
        if tool.kind == "builtin_function" or tool.parameters is None:
            tools.append(tool)
            continue
        facts = derived(tool)  # made MFJS once per tool object (core/model.py)
        kept = facts.get("kimi.mfjs")
        if kept is None:
            schema, notes = _mfjs(ctx, tool.parameters, param)
            # None: already MFJS (the tool itself, not kept in its own memo: a cycle)
            made = None if _same_json(schema, tool.parameters) else replace(tool, parameters=schema)
            kept = facts["kimi.mfjs"] = (made, notes)
        made, notes = kept
        fixed = tool if made is None else made
        for note in notes:
            detail = f"{param}: {note} (MFJS)"
            request = replace(
                request, diagnostics=ctx.note(request, "changed_schema", detail, param)
            )
        tools.append(fixed)
    if any(new is not old for new, old in zip(tools, request.tools, strict=True)):
        request = replace(request, tools=tuple(tools))
    return _normalise_response_format(request, ctx)


def _same_json(one: Any, other: Any) -> bool:
    """Whether the two encode to the same JSON text (key order included, which ``==`` of
    dicts ignores)."""
    try:
        return one == other and orjson.dumps(one) == orjson.dumps(other)
    except TypeError:  # orjson cannot encode it: not taken for the same
        return False


def _mfjs(
    ctx: QuirkContext, schema: Mapping[str, Any], param: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``schema`` in MFJS and what changed, or the refusal of one Kimi cannot take."""
    try:
        return normalised(schema, ctx.schema_memo)
    except SchemaError as error:
        raise refuse(f"{param}: {error} (Kimi accepts MFJS only)", param) from None


def _normalised(
    request: Request, ctx: QuirkContext, schema: Mapping[str, Any], param: str
) -> tuple[dict[str, Any], Request]:
    try:
        fixed, notes = normalised(schema, ctx.schema_memo)
    except SchemaError as error:
        raise refuse(f"{param}: {error} (Kimi accepts MFJS only)", param) from None
    for note in notes:
        detail = f"{param}: {note} (MFJS)"
        request = replace(request, diagnostics=ctx.note(request, "changed_schema", detail, param))
    return fixed, request


def _normalise_response_format(request: Request, ctx: QuirkContext) -> Request:
    fmt = request.response_format
    spec = None if fmt is None else fmt.get("json_schema")
    if not ctx.openai or fmt is None or not isinstance(spec, Mapping):
        return request
    schema = spec.get("schema")
    if not isinstance(schema, Mapping):
        return request
    fixed, request = _normalised(request, ctx, schema, "response_format.json_schema.schema")
    return replace(request, response_format={**fmt, "json_schema": {**spec, "schema": fixed}})


def ensure_prompt_cache_key(request: Request, ctx: QuirkContext) -> Request:
    """§5.1/§13.1 [O] OAS: ``prompt_cache_key`` is required on the Kimi Code plan; Moonshot's
    client sends its session id. Absent one: ``metadata.user_id`` (what Kimi Code's Anthropic
    face keys its cache on, [O-code] KOSONG-TS), else a stable hash of the conversation's start,
    which stays the same for every turn of one conversation."""
    if not ctx.openai or request.prompt_cache_key is not None:
        return request
    if not ctx.profile.requires_prompt_cache_key or not ctx.policy.derive_prompt_cache_key:
        return request
    user_id = request.metadata.get("user_id")
    key = user_id if isinstance(user_id, str) and user_id else conversation_key(request)
    return replace(request, prompt_cache_key=key)


def conversation_key(request: Request) -> str:
    """``kgw-`` + a hash of the system prompt and the first user message's text."""
    digest = hashlib.sha256(request.model.encode())
    for system_part in request.system:
        digest.update(b"\x00s" + system_part.text.encode())
    first_user = next((m for m in request.messages if m.role == "user"), None)
    for part in first_user.parts if first_user else ():
        if isinstance(part, TextPart):
            digest.update(b"\x00u" + part.text.encode())
    return "kgw-" + digest.hexdigest()[:32]

"""The emulator's two Anthropic Messages faces, as Starlette routes.

- `POST /anthropic/v1/messages`: the Open Platform's Anthropic route (docs/kimi.md §14). Platform
  keys, Bearer or `x-api-key`; the platform models, plus Claude Code's `kimi-k3[1m]`-style
  aliases (a bracketed suffix is Claude Code's own context hint, §1 [O] HC); mixed error
  shapes (anthropic_errors); no `ping` and no `error` events.
- `POST /coding/v1/messages`: Kimi Code's Anthropic face (§13). Kimi Code keys, the optional
  coding-agent User-Agent gate (403 `access_terminated_error`), the 2 MiB request cap, Kimi
  Code's model names (§13.1), signed thinking blocks whose replay is checked (§13.3), Claude
  Code's `tool_reference` blocks refused (docs/kimi.md §F2.11), Anthropic-shape errors.
  Switches: EmulatorConfig.anthropic (`coding_ping`, `reject_tool_reference`).
- `POST …/v1/messages/count_tokens` on both: 404 `method not found` (§13.3, §13.4 [O] KCDOCS;
  docs/kimi.md §F1: a fake `{"input_tokens":0}` would break Claude Code's compaction).

Order of work per request: authenticate and cap the size (intake, shared with the OpenAI
faces), parse and validate (anthropic_request), resolve model (intake) and thinking (rules),
check tool_choice, images and context (rules, intake), plan the turn (script.plan_reply),
wait the first-byte delay, answer JSON or SSE (anthropic_reply). Errors before the first byte
are JSON bodies, streaming or not (§2.1).
The face reads `state.config` on every request, so `EmulatorServer.reconfigure` applies.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kimi_gateway.emulator import intake, prompt_cache, rules
from kimi_gateway.emulator.anthropic_errors import coding_error_response, platform_error_response
from kimi_gateway.emulator.anthropic_messages import (
    ContentPolicy,
    missing_thinking,
    thinking_missing_error,
)
from kimi_gateway.emulator.anthropic_reply import build_reply, json_parts, stream_parts
from kimi_gateway.emulator.anthropic_request import MessagesRequest, parse_request
from kimi_gateway.emulator.anthropic_signing import signature_matches, signing_key
from kimi_gateway.emulator.auth import presented_key
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.errors import EmulatorError
from kimi_gateway.emulator.script import ReplyPlan, TurnInput, plan_reply, prompt_tokens_of
from kimi_gateway.emulator.served import note_served
from kimi_gateway.emulator.state import EmulatorState
from kimi_gateway.emulator.tagging import request_id_of
from kimi_gateway.emulator.wire import WireResponse, first_byte_delay, paced, replay

PLATFORM_PATH = "/anthropic/v1/messages"
CODING_PATH = "/coding/v1/messages"
METHOD_NOT_FOUND = "method not found"  # §13.4 [O] KCDOCS
_CONTEXT_HINT = re.compile(r"\[[^\[\]]*\]$")  # `kimi-k3[1m]` → `kimi-k3`
_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


@dataclass(frozen=True)
class _Face:
    kimi_code: bool

    def error(self, request: Request, err: EmulatorError) -> Response:
        if self.kimi_code:
            return coding_error_response(err)
        # §14 [3M] HALRO: 400 bodies carry a `request_id`; it is the request's own id, the one
        # the app's middleware also sends as `Msh-Request-Id` (§1.1).
        return platform_error_response(err, request_id_of(request))

    def policy(self, config: EmulatorConfig) -> ContentPolicy:
        key, anthropic = signing_key(config.seed), config.anthropic

        def check(thinking: str, signature: str) -> bool:
            return signature_matches(key, thinking, signature)

        return ContentPolicy(
            reject_url_images=config.reject_http_image_urls,
            reject_tool_reference=self.kimi_code and config.anthropic.reject_tool_reference,
            check_signature=check if self.kimi_code and anthropic.verify_signatures else None,
        )


@dataclass(frozen=True)
class _Prepared:
    request: MessagesRequest
    reported_model: str
    plan: ReplyPlan


def _tool_choice_form(face: _Face, req: MessagesRequest) -> str | None:
    if req.forced_tool is not None:
        return "specified"
    # `any` is OpenAI's `required`. On the platform route §14 [3M] HALRO measured `auto`, `any`
    # and `none` accepted, so only the named form meets the §8.4 rule there.
    return "required" if face.kimi_code and req.tool_choice == "any" else None


def _cache_scope(request: Request, body: object, config: EmulatorConfig) -> str:
    """The key's cache, split by `metadata.user_id` (Kimi's own client's cache key, §13.1)."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    user = metadata.get("user_id") if isinstance(metadata, dict) else None
    split = config.prefix_cache.split_by_cache_key
    return prompt_cache.cache_scope(presented_key(request), user, split)


async def _prepare(request: Request, face: _Face, state: EmulatorState) -> _Prepared:
    config = state.config
    body = await intake.read_request(request, config, kimi_code=face.kimi_code)
    req = parse_request(body, face.policy(config), config.reject_type_beside_anyof_ref)
    name = req.model if face.kimi_code else _CONTEXT_HINT.sub("", req.model)
    profile, reported = intake.resolve_model(name, config, kimi_code=face.kimi_code)
    family = rules.RULES[profile.family]
    thinking = rules.resolve_thinking(family, {"thinking": req.thinking})
    if thinking and config.anthropic.require_replayed_thinking:
        index = missing_thinking(body.get("messages"))
        if index is not None:
            raise thinking_missing_error(index)
    rules.check_tool_choice(
        family,
        profile.id,
        _tool_choice_form(face, req),
        thinking,
        config.tool_choice_thinking_rejected,
    )
    intake.check_image_input(profile, req.messages, config)
    turn = TurnInput(
        model=profile.id,
        messages=req.messages,
        # tool_choice none: the model may not call, so no marker can produce a call.
        offered_tools=() if req.tool_choice == "none" else req.tool_names,
        thinking=thinking,
        max_tokens=req.max_tokens,
        path=request.url.path,
        rendered=prompt_cache.render_anthropic(body),  # Kimi's cache: §12, prompt_cache.py
        cache_scope=_cache_scope(request, body, config),
    )
    rules.check_context(
        prompt_tokens_of(turn), req.max_tokens, profile.context_length, face.kimi_code
    )
    plan = plan_reply(turn, state)
    note_served(request.scope, plan)
    return _Prepared(req, reported, plan)


def _answer(face: _Face, state: EmulatorState, prepared: _Prepared) -> Response | WireResponse:
    plan, req = prepared.plan, prepared.request
    if plan.mid_error is not None and not req.stream:
        raise plan.mid_error  # no stream: the whole reply is refused
    reply = build_reply(
        state,
        plan,
        model=prepared.reported_model,
        stop_sequences=req.stop_sequences,
        signing_key=signing_key(state.config.seed),
    )
    if req.stream:
        ping = face.kimi_code and state.config.anthropic.coding_ping
        frames = stream_parts(reply, plan, ping=ping)
        return WireResponse(200, _SSE_HEADERS, paced(frames, plan.chunk_delay_ms))
    body, cut = json_parts(reply, plan)
    if cut is None:
        return Response(body, media_type="application/json")
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    return WireResponse(200, headers, replay(cut))


Endpoint = Callable[[Request], Awaitable[Response | WireResponse]]


def _messages_endpoint(state: EmulatorState, face: _Face) -> Endpoint:
    async def endpoint(request: Request) -> Response | WireResponse:
        try:
            prepared = await _prepare(request, face, state)
            await first_byte_delay(prepared.plan.delay_ms)
            if prepared.plan.error is not None:
                raise prepared.plan.error
            return _answer(face, state, prepared)
        except EmulatorError as err:
            return face.error(request, err)

    return endpoint


def _count_tokens_endpoint(face: _Face) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return face.error(request, EmulatorError(404, METHOD_NOT_FOUND, None))

    return endpoint


def anthropic_routes(state: EmulatorState) -> list[BaseRoute]:
    """Both Anthropic faces; requests read `state.config`, so reconfigure applies."""
    routes: list[BaseRoute] = []
    faces = ((PLATFORM_PATH, _Face(kimi_code=False)), (CODING_PATH, _Face(kimi_code=True)))
    for path, face in faces:
        routes.append(Route(path, _messages_endpoint(state, face), methods=["POST"]))
        routes.append(Route(path + "/count_tokens", _count_tokens_endpoint(face), methods=["POST"]))
    return routes

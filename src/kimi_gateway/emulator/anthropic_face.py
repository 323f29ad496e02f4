"""The emulator's two Anthropic Messages faces, as Starlette routes.

- `POST /anthropic/v1/messages`: the Open Platform's Anthropic route (kimi-api.md §14). Platform
  keys, Bearer or `x-api-key`; the platform models, plus Claude Code's `kimi-k3[1m]`-style
  aliases (a bracketed suffix is Claude Code's own context hint, §1 [O] HC); mixed error
  shapes (anthropic_errors); no `ping` and no `error` events.
- `POST /coding/v1/messages`: Kimi Code's Anthropic face (§13). Kimi Code keys, the optional
  coding-agent User-Agent gate (403 `access_terminated_error`), the 2 MiB request cap, Kimi
  Code's model names (§13.1), signed thinking blocks whose replay is checked (§13.3), Claude
  Code's `tool_reference` blocks refused (field-lessons §2.11), Anthropic-shape errors.
- `POST …/v1/messages/count_tokens` on both: 404 `method not found` (§13.3, §13.4 [O] KCDOCS;
  field-lessons §1: a fake `{"input_tokens":0}` would break Claude Code's compaction).

Order of work per request: authenticate, cap the size (Kimi Code), parse and validate
(anthropic_request), resolve model and thinking (catalog, rules), check tool_choice and context
(rules), plan the turn (script.plan_reply), wait the first-byte delay, answer JSON or SSE
(anthropic_reply). Errors before the first byte are JSON bodies, streaming or not (§2.1).
The face reads `state.config` on every request, so `EmulatorServer.reconfigure` applies.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kimi_gateway.emulator import auth, catalog, errors, rules
from kimi_gateway.emulator.anthropic_errors import coding_error_response, platform_error_response
from kimi_gateway.emulator.anthropic_messages import ContentPolicy
from kimi_gateway.emulator.anthropic_reply import build_reply, json_parts, next_id, stream_parts
from kimi_gateway.emulator.anthropic_request import MessagesRequest, parse_request
from kimi_gateway.emulator.anthropic_signing import signature_matches, signing_key
from kimi_gateway.emulator.catalog import ModelProfile
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.errors import EmulatorError, invalid_request
from kimi_gateway.emulator.script import ReplyPlan, TurnInput, plan_reply, prompt_tokens_of
from kimi_gateway.emulator.state import EmulatorState
from kimi_gateway.emulator.wire import Part, WireResponse, first_byte_delay, paced

KIMI_CODE_MAX_BYTES = 2_097_152  # §13.1 [O] KCDOCS
PLATFORM_PATH = "/anthropic/v1/messages"
CODING_PATH = "/coding/v1/messages"
METHOD_NOT_FOUND = "method not found"  # §13.4 [O] KCDOCS
_CONTEXT_HINT = re.compile(r"\[[^\[\]]*\]$")  # `kimi-k3[1m]` → `kimi-k3`
_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


@dataclass(frozen=True)
class AnthropicOptions:
    """Switches of the Anthropic faces that EmulatorConfig does not (yet) carry."""

    # §14 says the platform route sends no `ping`; nothing says whether Kimi Code does, so a
    # `ping` after message_start on /coding is opt-in (default: none, like the platform).
    coding_ping: bool = False
    # field-lessons §2.11, [3M] kimi-cli #1449 / cc-switch #2941: Kimi Code answers 400 to
    # Claude Code's `tool_reference` blocks. Off: they are read as text.
    reject_tool_reference: bool = True


@dataclass(frozen=True)
class _Face:
    kimi_code: bool
    options: AnthropicOptions

    def authenticate(self, request: Request, config: EmulatorConfig) -> None:
        if self.kimi_code:
            auth.authenticate_kimi_code(request, config)
        else:
            auth.authenticate_platform(request, config)

    def error(self, state: EmulatorState, err: EmulatorError) -> Response:
        if self.kimi_code:
            return coding_error_response(err)
        # §14 [3M] HALRO shows an 8-hex `request_id` ("3f84e9cd") in 400 bodies.
        return platform_error_response(err, next_id(state, "", 8))

    def policy(self, config: EmulatorConfig) -> ContentPolicy:
        key = signing_key(config.seed)

        def check(thinking: str, signature: str) -> bool:
            return signature_matches(key, thinking, signature)

        return ContentPolicy(
            reject_url_images=config.reject_http_image_urls,
            reject_tool_reference=self.kimi_code and self.options.reject_tool_reference,
            check_signature=check if self.kimi_code else None,
        )


@dataclass(frozen=True)
class _Prepared:
    request: MessagesRequest
    reported_model: str
    plan: ReplyPlan


def _platform_model(name: str, config: EmulatorConfig) -> tuple[ModelProfile, str]:
    profile = catalog.find_platform_model(_CONTEXT_HINT.sub("", name), config.retired_models_404)
    if profile is None:
        raise errors.model_not_found()  # §2.2 [O] DOCS-OLD, CB
    return profile, profile.id


def _coding_model(name: str, config: EmulatorConfig) -> tuple[ModelProfile, str]:
    accept_unknown = config.kimi_code_unknown_model == "accept"
    profile = catalog.find_kimi_code_model(name, accept_unknown)
    if profile is None:
        # §13.4 [O] KCDOCS names the model in the message.
        raise errors.model_not_found(f"Not found the model {name} or Permission denied")
    if catalog.find_kimi_code_model(name, False) is None:
        # §13.1 [3M] HALRO: an unknown name is answered with 200 and echoed back.
        return profile, name
    # §13.1 [3C]: replies report `kimi-for-coding` whatever known name was sent.
    return profile, catalog.KIMI_CODE_REPORTED_MODEL


def _check_tool_choice(
    face: _Face, config: EmulatorConfig, req: MessagesRequest, model: str, thinking: bool
) -> None:
    if req.forced_tool is None:
        return  # auto, any and none are accepted (§14 [3M] HALRO)
    # A named tool with thinking on: §8.4 [3M] HALRO — refused on k2.5-k2.7 (config), accepted
    # on k3; on Kimi Code refused for every model ([3M] HALRO compatibility/kimi_code.go).
    rejected = (model,) if face.kimi_code else config.tool_choice_thinking_rejected
    named = {"type": "function", "function": {"name": req.forced_tool}}
    rules.check_tool_choice(model, named, thinking, rejected)


async def _read(request: Request, face: _Face, config: EmulatorConfig) -> object:
    face.authenticate(request, config)
    raw = await request.body()
    if face.kimi_code and len(raw) > KIMI_CODE_MAX_BYTES:
        # §2.3/§13.4 [O] KCDOCS; N is the request body's size in bytes.
        raise invalid_request(f"total message size {len(raw)} exceeds limit {KIMI_CODE_MAX_BYTES}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_request("Invalid request: the body is not valid JSON") from None  # invented


async def _prepare(request: Request, face: _Face, state: EmulatorState) -> _Prepared:
    config = state.config
    body = await _read(request, face, config)
    req = parse_request(body, face.policy(config), config.reject_type_beside_anyof_ref)
    resolve = _coding_model if face.kimi_code else _platform_model
    profile, reported = resolve(req.model, config)
    thinking = rules.resolve_thinking(rules.RULES[profile.family], {"thinking": req.thinking})
    _check_tool_choice(face, config, req, profile.id, thinking)
    turn = TurnInput(
        model=profile.id,
        messages=req.messages,
        # tool_choice none: the model may not call, so no marker can produce a call.
        offered_tools=() if req.tool_choice == "none" else req.tool_names,
        thinking=thinking,
        max_tokens=req.max_tokens,
        path=request.url.path,
    )
    rules.check_context(
        prompt_tokens_of(turn), req.max_tokens, profile.context_length, face.kimi_code
    )
    return _Prepared(req, reported, plan_reply(turn, state))


async def _parts(parts: list[Part]) -> AsyncIterator[Part]:
    for part in parts:
        yield part


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
        ping = face.kimi_code and face.options.coding_ping
        frames = stream_parts(reply, plan, ping=ping)
        return WireResponse(200, _SSE_HEADERS, paced(frames, plan.chunk_delay_ms))
    body, cut = json_parts(reply, plan)
    if cut is None:
        return Response(body, media_type="application/json")
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    return WireResponse(200, headers, _parts(cut))


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
            return face.error(state, err)

    return endpoint


def _count_tokens_endpoint(state: EmulatorState, face: _Face) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return face.error(state, errors.EmulatorError(404, METHOD_NOT_FOUND, None))

    return endpoint


def anthropic_routes(
    state: EmulatorState, config: EmulatorConfig, options: AnthropicOptions | None = None
) -> list[BaseRoute]:
    """Both Anthropic faces. `config` is the initial config; requests read `state.config`."""
    del config  # the live config is state.config (reconfigure replaces it)
    chosen = options or AnthropicOptions()
    routes: list[BaseRoute] = []
    for path, face in (
        (PLATFORM_PATH, _Face(kimi_code=False, options=chosen)),
        (CODING_PATH, _Face(kimi_code=True, options=chosen)),
    ):
        routes.append(Route(path, _messages_endpoint(state, face), methods=["POST"]))
        routes.append(
            Route(path + "/count_tokens", _count_tokens_endpoint(state, face), methods=["POST"])
        )
    return routes

"""The OpenAI-dialect chat endpoints: Open Platform `/v1/chat/completions` and Kimi Code's
`/coding/v1/chat/completions` (docs/kimi.md §5-8, §13).

One handler serves both products: authenticate (each product its own keys, §1), cap Kimi Code's
request size (§13.1), validate (openai_request.py), plan the scripted turn (script.py), wait
the first-byte delay, then answer JSON (openai_render.py) or SSE (openai_stream.py). Errors
that happen before the first byte are JSON even for streaming requests (§2.1).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kimi_gateway.emulator import intake, prompt_cache
from kimi_gateway.emulator.auth import presented_key
from kimi_gateway.emulator.errors import EmulatorError, openai_error_response
from kimi_gateway.emulator.openai_render import completion_body, new_envelope
from kimi_gateway.emulator.openai_request import ChatRequest, parse_chat_request
from kimi_gateway.emulator.openai_stream import stream_parts
from kimi_gateway.emulator.script import ReplyPlan, plan_reply
from kimi_gateway.emulator.served import note_served
from kimi_gateway.emulator.state import EmulatorState
from kimi_gateway.emulator.wire import CUT, WireResponse, first_byte_delay, paced, replay


async def _plan(
    request: Request, state: EmulatorState, kimi_code: bool
) -> tuple[ChatRequest, ReplyPlan]:
    config = state.config
    body = await intake.read_request(request, config, kimi_code=kimi_code)
    chat = parse_chat_request(body, config, kimi_code=kimi_code, path=request.url.path)
    # Kimi's cache matches the rendered prompt per key (§12): prompt_cache.py.
    split = config.prefix_cache.split_by_cache_key
    scope = prompt_cache.cache_scope(presented_key(request), body.get("prompt_cache_key"), split)
    turn = replace(chat.turn, rendered=prompt_cache.render_openai(body), cache_scope=scope)
    plan = plan_reply(turn, state)
    note_served(request.scope, plan, chat.n)
    return chat, plan


def _json_reply(
    state: EmulatorState, chat: ChatRequest, plan: ReplyPlan
) -> Response | WireResponse:
    if plan.mid_error is not None:
        return openai_error_response(plan.mid_error)  # no stream: the whole reply is refused
    envelope = new_envelope(state, chat.reported_model)
    body = orjson.dumps(completion_body(state, envelope, plan, chat.n))
    if not plan.cut:
        return Response(body, media_type="application/json")
    # A cut without a stream: announce the whole length, send half, drop the connection.
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    return WireResponse(200, headers, replay([body[: len(body) // 2], CUT]))


def _stream_reply(
    state: EmulatorState, chat: ChatRequest, plan: ReplyPlan, kimi_code: bool
) -> WireResponse:
    envelope = new_envelope(state, chat.reported_model)
    details = kimi_code and state.config.reasoning_details
    parts = stream_parts(
        state, envelope, plan, n=chat.n, include_usage=chat.include_usage, reasoning_details=details
    )
    headers = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
    return WireResponse(200, headers, paced(parts, plan.chunk_delay_ms))


def chat_endpoint(state: EmulatorState, *, kimi_code: bool) -> Any:
    async def endpoint(request: Request) -> Response | WireResponse:
        try:
            chat, plan = await _plan(request, state, kimi_code)
        except EmulatorError as err:
            return openai_error_response(err)
        await first_byte_delay(plan.delay_ms)
        if plan.error is not None:
            return openai_error_response(plan.error)
        if chat.stream:
            return _stream_reply(state, chat, plan, kimi_code)
        return _json_reply(state, chat, plan)

    return endpoint


def openai_routes(state: EmulatorState) -> list[BaseRoute]:
    return [
        Route("/v1/chat/completions", chat_endpoint(state, kimi_code=False), methods=["POST"]),
        Route(
            "/coding/v1/chat/completions", chat_endpoint(state, kimi_code=True), methods=["POST"]
        ),
    ]

"""The emulator's composition root: every face mounted on one Starlette app, plus the
request log, the in-flight counter, the nginx-style HTML 404 and the control endpoints.

`GET /_emulator/requests` and `POST /_emulator/reset` are the emulator's own (not Kimi's): they
let out-of-process users read the request log and start afresh. Any other unknown path, a
doubled `/v1` included, gets nginx's HTML 404 (docs/kimi.md §13.2, §16.1 item 1).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kimi_gateway.emulator.account_routes import account_routes
from kimi_gateway.emulator.anthropic_face import anthropic_routes
from kimi_gateway.emulator.auth import platform_authenticator
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.errors import html_response, not_found_page, openai_error_response
from kimi_gateway.emulator.faults import draw_faults
from kimi_gateway.emulator.files import file_routes
from kimi_gateway.emulator.openai_face import openai_routes
from kimi_gateway.emulator.served import ENTRY
from kimi_gateway.emulator.state import EmulatorState
from kimi_gateway.emulator.tagging import new_request_id, remember_request_id, tagged_headers
from kimi_gateway.emulator.wire import first_byte_delay

CONTROL_PREFIX = "/_emulator/"
_SECRET_HEADERS = ("authorization", "x-api-key", "cookie")
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def redacted_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        headers[name] = "***" if name in _SECRET_HEADERS else raw_value.decode("latin-1")
    return headers


def _parsed_body(body: bytes, headers: dict[str, str]) -> Any:
    if not body or "json" not in headers.get("content-type", "json"):
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _is_generation(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] == "POST" and path.endswith(("/chat/completions", "/messages"))


class RecordingMiddleware:
    """Log each request (secrets redacted), count generations in flight, tag the response.

    Non-generation endpoints get their faults here (rules with a `path` and no `model`);
    generation endpoints get theirs from script.plan_reply, which knows the model.
    """

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = redacted_headers(scope)
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"),
            "headers": headers,
            "body": _parsed_body(body, headers),
            "status": None,
        }
        self.state.log_request(entry)
        scope[ENTRY] = entry  # a generation notes what it served (served.py)
        request_id = new_request_id()
        remember_request_id(scope, request_id)
        exchange = _Exchange(body, entry, request_id, self.state, receive, send)
        await self._serve(scope, exchange)

    async def _serve(self, scope: Scope, exchange: _Exchange) -> None:
        if not _is_generation(scope):
            effect = draw_faults(self.state, scope["path"], "", path_rules_only=True)
            await first_byte_delay(effect.delay_ms)
            if effect.error is not None:
                await openai_error_response(effect.error)(scope, exchange.receive, exchange.send)
                return
            await self.app(scope, exchange.receive, exchange.send)
            return
        self.state.enter()
        try:
            await self.app(scope, exchange.receive, exchange.send)
        finally:
            self.state.leave()


class _Exchange:
    """One request's receive/send as the app sees them: the body the middleware already read,
    the response tagged with Kimi's headers, and the log entry kept up to date."""

    def __init__(
        self,
        body: bytes,
        entry: dict[str, Any],
        request_id: str,
        state: EmulatorState,
        receive: Receive,
        send: Send,
    ) -> None:
        self.body: bytes | None = body
        self.entry = entry
        self.request_id = request_id
        self.state = state
        self.started = time.monotonic()
        self.complete = False
        self._receive = receive
        self._send = send

    async def receive(self) -> Message:
        """The body first, then the server's own messages: a streaming reply waits on them for
        the client's disconnect, which the log records as a cancellation."""
        if self.body is not None:
            body, self.body = self.body, None
            return {"type": "http.request", "body": body, "more_body": False}
        message = await self._receive()
        # uvicorn also answers http.disconnect once the reply is complete: not a cancellation.
        if message["type"] == "http.disconnect" and not self.complete:
            self.entry["cancelled"] = True
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            self.entry["status"] = status
            message["headers"] = tagged_headers(
                message.get("headers", []),
                self.request_id,
                self.state.config,
                status=status,
                elapsed_ms=round((time.monotonic() - self.started) * 1000),
            )
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            self.complete = True
        await self._send(message)


def _control_routes(state: EmulatorState) -> list[BaseRoute]:
    async def requests(request: Request) -> Response:
        return Response(orjson.dumps(state.requests()), media_type="application/json")

    async def reset(request: Request) -> Response:
        state.reset()
        return Response(orjson.dumps({"reset": True}), media_type="application/json")

    return [
        Route(CONTROL_PREFIX + "requests", requests, methods=["GET"]),
        Route(CONTROL_PREFIX + "reset", reset, methods=["POST"]),
    ]


async def _not_found(request: Request) -> Response:
    return html_response(not_found_page())


def create_emulator_app(config: EmulatorConfig, state: EmulatorState | None = None) -> Starlette:
    """Every face of both products on one app; `state` defaults to a fresh one for `config`."""
    state = state or EmulatorState(config)
    routes: list[BaseRoute] = [
        *_control_routes(state),
        *openai_routes(state),
        *account_routes(state),
        *file_routes(state.files, platform_authenticator_for(state), prefix="/v1/files"),
        *anthropic_routes(state),
        Route("/{path:path}", _not_found, methods=_ALL_METHODS),
    ]
    return Starlette(routes=routes, middleware=[Middleware(RecordingMiddleware, state=state)])


def platform_authenticator_for(state: EmulatorState) -> Any:
    """Authenticate against the state's current config (it changes on reconfigure)."""

    def authenticate(request: Request) -> None:
        platform_authenticator(state.config)(request)

    return authenticate

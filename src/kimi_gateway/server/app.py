"""The composition root: :func:`create_app` builds the gateway as one plain ASGI callable.

Routing is a dict lookup on the exact path (plus three prefixes), not a framework router: the
hot path stays short (issue 5). Every reply gets ``x-request-id`` and, in emulator mode,
``x-kimi-gateway-upstream: emulator``; every request ends in one access-log line and the
metrics. The lifespan builds the :class:`~kimi_gateway.server.runtime.Runtime` (HTTP client
pool, emulator, key store) and closes it; nothing is built at import time and nothing is global.
Errors are rendered in the route's dialect; an unknown route in the one its path implies
(server/route_hints.py), with the base URL the client should use.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.dialects.registry import ANTHROPIC, OPENAI, RESPONSES, Dialect
from kimi_gateway.ledger.keys import KeyStore
from kimi_gateway.server import admin, dashboard, endpoints, files, models
from kimi_gateway.server.access_log import AccessRecord
from kimi_gateway.server.asgi import (
    ClientGone,
    Message,
    Receive,
    Scope,
    Send,
    header,
    send_json,
)
from kimi_gateway.server.banner import banner, refusal
from kimi_gateway.server.count_tokens import count_tokens
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.relay import handle_generation
from kimi_gateway.server.request_body import RELEASE_AFTER_BYTES
from kimi_gateway.server.responses_create import create_response
from kimi_gateway.server.responses_read import response_item
from kimi_gateway.server.route_hints import origin_of, unknown_route
from kimi_gateway.server.runtime import Runtime, build_runtime
from kimi_gateway.settings import Settings

Handler = Callable[[Exchange], Awaitable[None]]
_LOG = logging.getLogger("kimi_gateway.server")
_EMULATOR_HEADER = (b"x-kimi-gateway-upstream", b"emulator")


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    methods: frozenset[str]
    handler: Handler
    dialect: Dialect = OPENAI


def _routes() -> tuple[dict[str, Route], tuple[tuple[str, Route], ...]]:
    post, get = frozenset({"POST"}), frozenset({"GET"})
    exact = {
        "/v1/chat/completions": Route("chat_completions", post, handle_generation),
        "/v1/messages": Route("messages", post, handle_generation, ANTHROPIC),
        "/v1/messages/count_tokens": Route("count_tokens", post, count_tokens, ANTHROPIC),
        "/v1/responses": Route("responses", post, create_response, RESPONSES),
        "/v1/models": Route("models", get, models.list_models),
        "/": Route("root", frozenset({"GET", "HEAD"}), endpoints.root),
        "/healthz": Route("healthz", get, endpoints.healthz),
        "/readyz": Route("readyz", get, endpoints.readyz),
        "/metrics": Route("metrics", get, endpoints.metrics),
        "/admin/keys": Route("admin_keys", frozenset({"GET", "POST"}), admin.admin_keys),
        "/ui": Route("ui", get, dashboard.page),
        "/ui/login": Route("ui_login", post, dashboard.login),
        "/ui/logout": Route("ui_logout", post, dashboard.logout),
        "/ui/data": Route("ui_data", get, dashboard.data),
    }
    files_route = Route("files", frozenset({"GET", "POST", "DELETE"}), files.relay_files)
    prefixes = (
        ("/v1/models/", Route("model", get, models.get_model)),
        ("/v1/files/", files_route),
        ("/admin/keys/", Route("admin_key", frozenset({"DELETE"}), admin.admin_key)),
        (
            "/v1/responses/",
            Route("response", frozenset({"GET", "DELETE", "POST"}), response_item, RESPONSES),
        ),
    )
    return {**exact, "/v1/files": files_route}, prefixes


class GatewayApp:
    """The ASGI application. Build it with :func:`create_app`."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: aiohttp.ClientSession | None,
        clock: Callable[[], float],
        key_store: KeyStore | None,
        announce: Callable[[str], None] | None,
    ) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None
        self._http_client = http_client
        self._clock = clock
        self._key_store = key_store
        self._announce = announce
        self._exact, self._prefixes = _routes()
        # Request ids: a random per-app prefix and a counter (unique without a getrandom
        # syscall per request); 20 hex digits like before.
        self._id_prefix = "req_" + secrets.token_hex(6)
        self._id_counter = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        runtime = await build_runtime(
            self.settings,
            http_client=self._http_client,
            key_store=self._key_store,
            clock=self._clock,
        )
        refused = refusal(self.settings.host, runtime.keys.usable)
        if refused is not None:
            await runtime.close()
            raise RuntimeError(refused)
        self.runtime = runtime
        if self._announce is not None:
            self._announce(banner(runtime))

    def begin_drain(self, seconds: float) -> None:
        """Shutdown has begun (SIGTERM): what is in flight must end within ``seconds``."""
        if self.runtime is not None:
            self.runtime.drain.begin(seconds)

    async def stop(self) -> None:
        if self.runtime is not None:
            runtime, self.runtime = self.runtime, None
            await runtime.close()

    def _match(self, path: str) -> Route | None:
        route = self._exact.get(path)
        if route is None:
            for prefix, candidate in self._prefixes:
                if path.startswith(prefix):
                    return candidate
        return route

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = self.runtime
        if runtime is None:
            body = {"error": {"message": "the gateway is not started", "type": "server_error"}}
            await send_json(send, 503, body)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        route = self._match(path)
        request_id = f"{self._id_prefix}{next(self._id_counter) & 0xFFFFFFFF:08x}"
        record = AccessRecord(request_id, method, route.name if route else "unknown", self._clock())
        extra = [(b"x-request-id", request_id.encode())]
        if runtime.emulated:
            extra.append(_EMULATOR_HEADER)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        ex = Exchange(scope, receive, send_with_headers, runtime, record, OPENAI)
        try:
            await _dispatch(ex, route, method, path)
        except GatewayError as error:
            if not ex.started:
                await ex.error(error)
        except ClientGone:
            record.status = 499
        except Exception:
            _LOG.exception("unexpected error in request %s", request_id)
            if not ex.started:
                await ex.error(GatewayError("server", f"internal error (request {request_id})"))
        finally:
            if ex.body_size >= RELEASE_AFTER_BYTES:  # its objects are gone: return the memory
                runtime.memory.after_large_request()
            try:
                self._finish(runtime, record)
            except Exception:  # the log and metrics must never fail a request
                _LOG.exception("recording request %s failed", request_id)

    def _finish(self, runtime: Runtime, record: AccessRecord) -> None:
        finished = self._clock()
        runtime.metrics.observe(
            record.route, record.upstream, record.status, finished - record.started, record.tokens
        )
        if runtime.access.enabled:
            runtime.access.write_record(record, finished, time.time())


async def _dispatch(ex: Exchange, route: Route | None, method: str, path: str) -> None:
    if route is None:
        unknown = unknown_route(method, path, _origin(ex.scope))
        ex.dialect = ANTHROPIC if unknown.family == "anthropic" else OPENAI
        ex.record.path = path if len(path) <= 1024 else path[:1024]
        raise GatewayError("not_found", unknown.message)
    ex.dialect = route.dialect
    if method not in route.methods:
        allowed = ", ".join(sorted(route.methods))
        error = GatewayError("invalid_request", f"{method} is not allowed on {path} ({allowed})")
        await ex.error(error, [(b"allow", allowed.encode())], status=405)
        return
    await route.handler(ex)
    if ex.record.status == 0 and ex.record.error != "client_closed":
        _LOG.error("request %s ended without a response", ex.record.request_id)
        raise GatewayError("server", f"no response (request {ex.record.request_id})")


def _origin(scope: Scope) -> str:
    server = scope.get("server")
    return origin_of(scope.get("scheme", "http"), header(scope, b"host"), server)


def create_app(
    settings: Settings,
    *,
    http_client: aiohttp.ClientSession | None = None,
    clock: Callable[[], float] | None = None,
    key_store: KeyStore | None = None,
    announce: Callable[[str], None] | None = None,
) -> GatewayApp:
    """The gateway for ``settings``.

    ``http_client``: the pooled client for upstream calls (default: one built in the lifespan and
    closed with it). ``clock``: monotonic seconds (default ``time.perf_counter``). ``key_store``:
    the gateway key store (default: opened from ``settings``' database URL). ``announce``:
    receives the start banner (the CLI prints it).
    """
    return GatewayApp(
        settings,
        http_client=http_client,
        clock=clock or time.perf_counter,
        key_store=key_store,
        announce=announce,
    )

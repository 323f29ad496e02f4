"""One request/response exchange as the handlers see it: the ASGI triple, the runtime, the
access record being filled in, the dialect its errors are rendered in, and the few steps every
API handler shares (read a JSON body, authenticate, answer with an error).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request
from kimi_gateway.core.principal import Principal
from kimi_gateway.dialects.registry import Dialect
from kimi_gateway.server.access_log import AccessRecord
from kimi_gateway.server.asgi import (
    BodyTimeout,
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    send_json,
)
from kimi_gateway.server.auth import presented_key
from kimi_gateway.server.request_body import decode_object, parse_request
from kimi_gateway.server.runtime import Runtime

# Statuses the gateway itself decides that no error kind carries (a dialect renders "timeout" as
# its own 504): kept whatever the dialect. 502: the upstream could not be reached or broke off,
# or its reply broke the client's contract (a forced tool call that never came).
_OWN_STATUSES = frozenset({408, 415, 502})


def check_json_type(value: str | None) -> None:
    """A 415 unless ``value`` (a Content-Type) names JSON: ``application/json`` or a
    ``+json`` type, parameters allowed (security.requests.require_json_content_type)."""
    media = (value or "").partition(";")[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    shown = f"Content-Type {media!r}" if media else "no Content-Type"
    raise GatewayError(
        "invalid_request",
        f"this endpoint takes a JSON body (Content-Type: application/json); the request has "
        f"{shown}",
        status=415,
    )


def body_timeout() -> GatewayError:
    """The 408 for a body that arrived too slowly (server/http_protocol.py decides when)."""
    return GatewayError(
        "timeout",
        "the request body arrived too slowly (security.connections.body_timeout, body_min_rate)",
        status=408,
    )


@dataclass(slots=True)
class Exchange:
    scope: Scope
    receive: Receive
    send: Send
    runtime: Runtime
    record: AccessRecord
    dialect: Dialect  # errors of this route are rendered in this dialect
    heavy: bool = False  # a large body: translate and encode it off the event loop
    body_size: int = 0  # bytes of the request body read so far

    @property
    def started(self) -> bool:
        """Whether the response head has been sent (the app's send wrapper notes its status)."""
        return self.record.status != 0

    async def raw_body(self) -> bytes:
        """The JSON body (at most ``max_body_bytes``), or a 415, 413 or 408 GatewayError."""
        if self.runtime.settings.security.requests.require_json_content_type:
            check_json_type(header(self.scope, b"content-type"))
        limit = self.runtime.settings.max_body_bytes
        try:
            raw = await read_body(self.scope, self.receive, limit)
        except BodyTooLarge:
            raise GatewayError(
                "request_too_large", f"request body is larger than the limit of {limit} bytes"
            ) from None
        except BodyTimeout:
            raise body_timeout() from None
        self.body_size = len(raw)
        return raw

    async def json_body(self) -> dict[str, Any]:
        """The body as a JSON object, or a 4xx GatewayError (413, 408, 400) naming the
        problem (server/request_body.py bounds what it may hold)."""
        raw = await self.raw_body()
        return decode_object(raw, self.runtime.settings.security.requests.max_json_values)

    async def request(self, fill: Callable[[dict[str, Any]], None]) -> Request:
        """The body parsed in this route's dialect after ``fill`` added the route's defaults;
        a large body is parsed in a worker thread and marks the exchange heavy."""
        raw = await self.raw_body()
        limits = self.runtime.settings.security.requests
        memo = self.runtime.message_memo
        if len(raw) < limits.offload_bytes:
            return parse_request(raw, self.dialect, fill, limits.max_json_values, memo)
        self.heavy = True
        # No message memo for a large body: a key is one orjson.dumps of a message that may be
        # many MB, which holds the GIL long enough to stall the loop (core/offloaded.py).
        args = (raw, self.dialect, fill, limits.max_json_values, None)
        del raw
        return await asyncio.to_thread(parse_request, *args)

    def authenticate(self, *, master: bool = False) -> Principal:
        """The caller, or a 401. ``master``: whether the master key is accepted here (models,
        files, metrics); it is an admin credential, so generation routes refuse it with a 403
        (issue 10 item 7), and nothing it spends is charged to a client key."""
        principal = self.runtime.keys.authenticate(presented_key(self.scope))
        if principal is None:
            raise GatewayError(
                "authentication",
                "a valid gateway key is required (Authorization: Bearer <key> or x-api-key)",
            )
        self.record.key_id = principal.key_id
        if principal.admin and not master:
            raise GatewayError(
                "permission",
                "the master key is for the admin API and cannot be used as a client key; "
                "use a gateway key (`kimi-gateway keys create NAME` or POST /admin/keys)",
            )
        return principal

    def user_agent(self) -> str | None:
        return header(self.scope, b"user-agent")

    async def error(
        self,
        error: GatewayError,
        headers: Iterable[tuple[bytes, bytes]] = (),
        *,
        status: int | None = None,
    ) -> None:
        """Answer with ``error`` in this route's dialect (only before the head was sent);
        ``status`` overrides the dialect's status for the kind (405 has no kind of its own)."""
        rendered_status, body = self.dialect.render_error(error)
        if status is None and error.status in _OWN_STATUSES:
            status = error.status
        status = status or rendered_status
        self.record.error = error.kind
        extra = list(headers)
        if error.retry_after is not None:
            extra.append((b"retry-after", str(max(0, round(error.retry_after))).encode()))
        await send_json(self.send, status, body, extra)

"""One request/response exchange as the handlers see it: the ASGI triple, the runtime, the
access record being filled in, the dialect its errors are rendered in, and the few steps every
API handler shares (read a JSON body, authenticate, answer with an error).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from kimi_gateway.core.errors import GatewayError
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
from kimi_gateway.server.runtime import Runtime


# Statuses the gateway itself decides that no error kind carries (a dialect renders "timeout" as
# its own 504): kept whatever the dialect.
_OWN_STATUSES = frozenset({408})


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

    @property
    def started(self) -> bool:
        """Whether the response head has been sent (the app's send wrapper notes its status)."""
        return self.record.status != 0

    async def json_body(self) -> dict[str, Any]:
        """The body as a JSON object, or a 4xx GatewayError (413, 400) naming the problem."""
        limit = self.runtime.settings.max_body_bytes
        try:
            raw = await read_body(self.scope, self.receive, limit)
        except BodyTooLarge:
            raise GatewayError(
                "request_too_large", f"request body is larger than the limit of {limit} bytes"
            ) from None
        except BodyTimeout:
            raise body_timeout() from None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise GatewayError(
                "invalid_request", f"request body is not valid JSON: {exc}"
            ) from None
        if not isinstance(body, dict):
            raise GatewayError("invalid_request", "request body must be a JSON object")
        return body

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

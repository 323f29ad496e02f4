"""One id per request, and the headers Kimi puts on every response (docs/kimi.md §1.1).

The app's middleware makes the id (`new_request_id`), stores it in the ASGI scope's state
(`remember_request_id`) and sends it as `Msh-Request-Id`; a face that also puts the id in a body
(the platform Anthropic route's 400s, §14) reads it back with `request_id_of`, so header and body
always agree. `tagged_headers` adds the §1.1 headers to a response start.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.types import Scope

from kimi_gateway.emulator.config import EmulatorConfig

_STATE_KEY = "request_id"


def new_request_id() -> str:
    # §14 [3M] HALRO: the only id Kimi was seen sending is 8 hex ("request_id":"3f84e9cd").
    return uuid.uuid4().hex[:8]


def remember_request_id(scope: Scope, request_id: str) -> None:
    """Put the id where Starlette's `request.state` finds it."""
    scope.setdefault("state", {})[_STATE_KEY] = request_id


def request_id_of(request: Request) -> str:
    """The id the middleware remembered for this request (a fresh one without it)."""
    request_id = getattr(request.state, _STATE_KEY, None)
    return request_id if isinstance(request_id, str) else new_request_id()


def tagged_headers(
    headers: list[tuple[bytes, bytes]],
    request_id: str,
    config: EmulatorConfig,
    *,
    status: int,
    elapsed_ms: int,
) -> list[tuple[bytes, bytes]]:
    """The response's headers plus §1.1's: [O-code] MP `Msh-Request-Id`, `Msh-Uid`, `Msh-Gid`,
    `Server-Timing: inner; dur=<ms>` and `Server: nginx`; [O-code] KOSONG-PY reads `x-trace-id`;
    [3M] HALRO saw `x-msh-trace-id` on a 429. Trace ids reuse the request id (one id per request).
    """
    tags = {
        b"msh-request-id": request_id,
        b"msh-uid": config.limits.uid,
        b"msh-gid": config.limits.gid,
        b"server-timing": f"inner; dur={elapsed_ms}",
        b"x-trace-id": request_id,
    }
    if status == 429:
        tags[b"x-msh-trace-id"] = request_id
    present = {name.lower() for name, _ in headers}
    if b"server" not in present:
        tags[b"server"] = "nginx"
    return [*headers, *((name, value.encode()) for name, value in tags.items())]

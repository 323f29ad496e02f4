"""OpenAI-style error bodies ↔ :class:`GatewayError`, for the Responses face.

The Responses API answers failures before a stream with the same envelope as Chat Completions,
``{"error": {"message", "type", "param", "code"}}``; a failure inside a stream arrives as a
``response.failed`` event whose ``response.error`` is ``{"code", "message"}`` (or as a bare
``error`` event). Parsing classifies by ``type``, then ``code``, then status; rendering uses
OpenAI's type names, and ``code`` carries the upstream's own type when known. ``stream_code``
gives the ``response.failed`` code that Codex CLI acts on (rate_limit_exceeded,
insufficient_quota, server_is_overloaded …).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from kimi_gateway.core.errors import (
    KIND_OF_STATUS,
    ErrorKind,
    GatewayError,
    is_quota_wording,
    kind_of_status,
)
from kimi_gateway.core.http_headers import retry_after_seconds, upstream_request_id

_KIND_OF_NAME: dict[str, ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "invalid_prompt": "invalid_request",
    "authentication_error": "authentication",
    "invalid_api_key": "authentication",
    "permission_error": "permission",
    "not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "rate_limit_exceeded": "rate_limit",
    "insufficient_quota": "quota_exhausted",
    "exceeded_current_quota_error": "quota_exhausted",
    "server_is_overloaded": "overloaded",
    "engine_overloaded": "overloaded",
    "engine_overloaded_error": "overloaded",
    "slow_down": "overloaded",
    "content_filter": "content_filter",
    "timeout": "timeout",
    "service_unavailable": "unavailable",
    "server_error": "server",
    "api_error": "server",
}
_OPENAI_TYPE: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "request_too_large": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "quota_exhausted": "insufficient_quota",
    "overloaded": "server_error",
    "content_filter": "invalid_request_error",
    "timeout": "server_error",
    "server": "server_error",
    "unavailable": "server_error",
    "client_closed": "server_error",
}
# response.failed codes: Codex CLI retries rate_limit_exceeded / server_is_overloaded and stops
# on insufficient_quota; invalid_prompt is the Responses code for a refused input.
_STREAM_CODE: dict[ErrorKind, str] = {
    "invalid_request": "invalid_prompt",
    "content_filter": "invalid_prompt",
    "request_too_large": "invalid_prompt",
    "rate_limit": "rate_limit_exceeded",
    "quota_exhausted": "insufficient_quota",
    "overloaded": "server_is_overloaded",
}
# The ``code`` of an HTTP error body (OpenAI's own codes where it has one).
_CODE: dict[ErrorKind, str] = {
    "authentication": "invalid_api_key",
    "request_too_large": "request_too_large",
    "rate_limit": "rate_limit_exceeded",
    "quota_exhausted": "insufficient_quota",
    "overloaded": "server_is_overloaded",
    "content_filter": "content_filter",
    "timeout": "timeout",
    "unavailable": "service_unavailable",
}
_MAX_TEXT = 300


def parse_error(status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    """An upstream's non-2xx reply → GatewayError (never raises)."""
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, Mapping):
        return error_from_payload(payload, status, headers)
    text = " ".join(body.decode("utf-8", errors="replace").split())[:_MAX_TEXT]
    return _build(status, None, None, text or f"Upstream returned HTTP {status}", None, headers)


def error_from_payload(
    payload: Mapping[str, Any], status: int | None, headers: Mapping[str, str] | None = None
) -> GatewayError:
    """A decoded error object: ``{"error": {...}}``, a ``response.error`` or an ``error`` event."""
    inner = payload.get("error")
    error = inner if isinstance(inner, Mapping) else payload
    kind_name = _str(error.get("type"))
    code = _str(error.get("code"))
    message = _str(error.get("message"))
    if message is None:
        message = inner if isinstance(inner, str) else orjson.dumps(payload).decode()
    param = _str(error.get("param"))
    return _build(status, kind_name, code, message, param, headers or {})


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _build(
    status: int | None,
    kind_name: str | None,
    code: str | None,
    message: str,
    param: str | None,
    headers: Mapping[str, str],
) -> GatewayError:
    kind = _classify(status, kind_name, code)
    if kind in ("rate_limit", "overloaded") and is_quota_wording(message):
        kind = "quota_exhausted"  # a spent plan is not retried (docs/kimi.md §2.4, §13.4)
    return GatewayError(
        kind,
        message,
        status=status,
        param=param,
        retry_after=retry_after_seconds(headers),
        upstream_type=kind_name if kind_name not in (None, "error") else code,
        upstream_request_id=upstream_request_id(headers),
    )


def _classify(status: int | None, kind_name: str | None, code: str | None) -> ErrorKind:
    # The code is the more specific of the two ("server_error" + "server_is_overloaded"), and
    # a generic server_error says less than a 503 / 504 status does.
    for name in (code, kind_name):
        kind = _KIND_OF_NAME.get(name or "")
        if kind is not None and kind != "server":
            return kind
    kind = KIND_OF_STATUS.get(status or 0)
    if kind is not None:
        return kind
    if "server" in (_KIND_OF_NAME.get(code or ""), _KIND_OF_NAME.get(kind_name or "")):
        return "server"
    return kind_of_status(status)


def error_message(error: GatewayError) -> str:
    return error.message if error.hint is None else f"{error.message} (hint: {error.hint})"


def render_error(error: GatewayError) -> tuple[int, dict[str, Any]]:
    """GatewayError → (status, OpenAI error body)."""
    return error.status, {
        "error": {
            "message": error_message(error),
            "type": _OPENAI_TYPE[error.kind],
            "param": error.param,
            "code": error.upstream_type or _CODE.get(error.kind),
        }
    }


def stream_code(error: GatewayError) -> str:
    """The ``response.error.code`` of a ``response.failed`` event for this error."""
    return _STREAM_CODE.get(error.kind, "server_error")

"""OpenAI-style error bodies ↔ :class:`GatewayError`.

Parsing reads Kimi's envelope ``{"error": {"type", "message"}}`` (docs/kimi.md §2.1) and also
bodies that are not JSON at all (an HTML 504 page from a gateway, §2.2), classifying by Kimi's
``error.type`` first, then by billing wording (Moonshot's own client does the same, §2.4), then
by status. ``retry_after`` and the upstream request id come from the reply's headers
(core/http_headers.py, docs/kimi.md §1.1). Rendering writes OpenAI's
``{"error": {"message", "type", "param", "code"}}`` with OpenAI's type names; ``code`` carries
Kimi's own type when known, else an OpenAI-style code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from kimi_gateway.core.errors import ErrorKind, GatewayError, is_quota_wording, kind_of_status
from kimi_gateway.core.http_headers import retry_after_seconds, upstream_request_id

_KIND_OF_TYPE: dict[str, ErrorKind] = {
    "engine_overloaded_error": "overloaded",
    "overloaded_error": "overloaded",
    "rate_limit_reached_error": "rate_limit",
    "rate_limit_error": "rate_limit",
    "exceeded_current_quota_error": "quota_exhausted",
    "insufficient_quota": "quota_exhausted",
    "content_filter": "content_filter",
    "invalid_request_error": "invalid_request",
    "invalid_authentication_error": "authentication",
    "incorrect_api_key_error": "authentication",
    "authentication_error": "authentication",
    "permission_denied_error": "permission",
    "access_terminated_error": "permission",
    "permission_error": "permission",
    "resource_not_found_error": "not_found",
    "not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "server_error": "server",
    "unexpected_output": "server",
    "api_error": "server",
    "server_unavailable": "unavailable",
    "client_closed_request": "client_closed",
}
_OPENAI_TYPE: dict[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "request_too_large": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "quota_exhausted": "insufficient_quota",
    "overloaded": "server_error",  # what OpenAI itself sends for "model overloaded"
    "content_filter": "invalid_request_error",
    "timeout": "server_error",
    "server": "server_error",
    "unavailable": "server_error",
    "client_closed": "server_error",
}
_OPENAI_CODE: dict[ErrorKind, str] = {
    "authentication": "invalid_api_key",
    "request_too_large": "request_too_large",
    "rate_limit": "rate_limit_exceeded",
    "quota_exhausted": "insufficient_quota",
    "overloaded": "engine_overloaded",
    "content_filter": "content_filter",
    "timeout": "timeout",
    "unavailable": "service_unavailable",
}
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_MAX_TEXT = 300


def parse_error(status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    """An upstream's non-2xx reply → GatewayError (never raises)."""
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, Mapping):
        return error_from_payload(payload, status, headers)
    message = _text_message(body) or f"Upstream returned HTTP {status}"
    return _build(status, None, message, None, headers)


def error_from_payload(
    payload: Mapping[str, Any], status: int | None, headers: Mapping[str, str] | None = None
) -> GatewayError:
    """A decoded error body (also a mid-stream ``{"error": …}`` chunk, where status is None)."""
    inner = payload.get("error")
    error = inner if isinstance(inner, Mapping) else payload
    kimi_type = error.get("type") if isinstance(error.get("type"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    if message is None:
        message = inner if isinstance(inner, str) else orjson.dumps(payload).decode()
    param = error.get("param") if isinstance(error.get("param"), str) else None
    return _build(status, kimi_type, message, param, headers or {})


def _build(
    status: int | None,
    kimi_type: str | None,
    message: str,
    param: str | None,
    headers: Mapping[str, str],
) -> GatewayError:
    return GatewayError(
        classify(status, kimi_type, message),
        message,
        status=status,
        param=param,
        retry_after=retry_after_seconds(headers),
        upstream_type=kimi_type,
        upstream_request_id=upstream_request_id(headers),
    )


def classify(status: int | None, kimi_type: str | None, message: str) -> ErrorKind:
    kind = _KIND_OF_TYPE.get(kimi_type or "") or kind_of_status(status)
    if kind == "invalid_request" and status == 413:
        kind = "request_too_large"
    limited = kind in ("rate_limit", "overloaded", "quota_exhausted") or status in (402, 429)
    if limited and is_quota_wording(message):
        return "quota_exhausted"
    if kind in ("rate_limit", "server") and "overload" in message.lower():
        return "overloaded"
    return kind


def _text_message(body: bytes) -> str:
    """A short readable message from a non-JSON body: an HTML page's title, or its text."""
    text = body.decode("utf-8", errors="replace")
    title = _TITLE.search(text)
    if title is not None:
        text = title.group(1)
    text = " ".join(_TAG.sub(" ", text).split())
    return text[:_MAX_TEXT]


def render_error(error: GatewayError) -> tuple[int, dict[str, Any]]:
    """GatewayError → (status, OpenAI error body). Kimi's message is kept; a hint is appended."""
    message = error.message if error.hint is None else f"{error.message} (hint: {error.hint})"
    return error.status, {
        "error": {
            "message": message,
            "type": _OPENAI_TYPE[error.kind],
            "param": error.param,
            "code": error.upstream_type or _OPENAI_CODE.get(error.kind),
        }
    }

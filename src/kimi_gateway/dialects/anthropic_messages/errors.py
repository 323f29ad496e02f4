"""Upstream error replies → GatewayError, and GatewayError → the Anthropic error envelope.

Parsing accepts every shape an Anthropic-dialect upstream sends: Anthropic's
``{"type":"error","error":{type,message},"request_id"}``, the OpenAI shape
``{"error":{type,message}}`` that Kimi's Anthropic route uses for 401 and 429 (docs/kimi.md §14),
and HTML or plain-text pages from gateways (nginx 404/504, §2.2, §13.2). The kind comes from, in
order: billing wording on a 402/403/429 → ``quota_exhausted`` (never retried; docs/kimi.md §2.4
[O-code] KOSONG-TS, plus Kimi Code's "usage limit" texts of §13.4); "overloaded" wording on a
429/5xx → ``overloaded`` (Kimi Code's Anthropic face reports overload as ``rate_limit_error``,
§13.4); Kimi's "high risk" text → ``content_filter``; the ``error.type`` (Anthropic's and Kimi's
names); the HTTP status.

Rendering follows Anthropic's table (docs/kimi.md §16.2): overloaded → 529 ``overloaded_error``
(Claude Code and the Anthropic SDKs retry 529, docs/kimi.md §F1); rate_limit → 429
``rate_limit_error``; quota_exhausted → 402 ``billing_error``, Anthropic's type for an account
that cannot pay — the SDKs do not retry 402 and OpenClaw treats it as a billing failure, where a
429 would be retried for minutes to no avail; timeout → 504 ``timeout_error``; server,
unavailable and client_closed → ``api_error`` with 500/503/499. The status is the kind's, not the
upstream's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from kimi_gateway.core.errors import (
    STATUS_OF_KIND,
    ErrorKind,
    GatewayError,
    is_quota_wording,
    kind_of_status,
)
from kimi_gateway.core.http_headers import retry_after_seconds, upstream_request_id

_TYPE_KINDS: dict[str, ErrorKind] = {
    "invalid_request_error": "invalid_request",
    "authentication_error": "authentication",
    "invalid_authentication_error": "authentication",
    "incorrect_api_key_error": "authentication",
    "permission_error": "permission",
    "permission_denied_error": "permission",
    "access_terminated_error": "permission",
    "not_found_error": "not_found",
    "resource_not_found_error": "not_found",
    "request_too_large": "request_too_large",
    "rate_limit_error": "rate_limit",
    "rate_limit_reached_error": "rate_limit",
    "overloaded_error": "overloaded",
    "engine_overloaded_error": "overloaded",
    "exceeded_current_quota_error": "quota_exhausted",
    "billing_error": "quota_exhausted",
    "content_filter": "content_filter",
    "api_error": "server",
    "server_error": "server",
    "unexpected_output": "server",
    "server_unavailable": "unavailable",
    "timeout_error": "timeout",
    "client_closed_request": "client_closed",
}
_RENDERED: dict[ErrorKind, tuple[int, str]] = {
    "invalid_request": (400, "invalid_request_error"),
    "content_filter": (400, "invalid_request_error"),
    "authentication": (401, "authentication_error"),
    "permission": (403, "permission_error"),
    "not_found": (404, "not_found_error"),
    "request_too_large": (413, "request_too_large"),
    "rate_limit": (429, "rate_limit_error"),
    "quota_exhausted": (402, "billing_error"),
    "overloaded": (529, "overloaded_error"),
    "timeout": (504, "timeout_error"),
    "server": (500, "api_error"),
    "unavailable": (503, "api_error"),
    "client_closed": (499, "api_error"),
}
_OVERLOAD_WORDING = re.compile(r"overload", re.IGNORECASE)
_FILTER_WORDING = re.compile(r"considered high risk", re.IGNORECASE)  # §2.2 [O] HC
_TITLE = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SNIPPET = 300


def parse_error(status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    """An upstream's non-2xx reply → GatewayError."""
    try:
        decoded = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict):
        return error_from_body(status, decoded, headers)
    return _from_text(status, body, headers)


def error_from_body(
    status: int | None, body: Mapping[str, Any], headers: Mapping[str, str]
) -> GatewayError:
    """An error envelope already decoded (Anthropic or OpenAI shape); ``status`` None in streams."""
    error = body.get("error")
    upstream_type: str | None = None
    message = ""
    param: str | None = None
    if isinstance(error, Mapping):
        upstream_type = _opt_str(error.get("type"))
        message = _opt_str(error.get("message")) or ""
        param = _opt_str(error.get("param"))
    elif isinstance(error, str):
        message = error
    message = message or _default_message(status)
    kind = classify(status, upstream_type, message)
    return GatewayError(
        kind,
        message,
        status=status,
        param=param,
        retry_after=retry_after_seconds(headers),
        upstream_type=upstream_type,
        upstream_request_id=_opt_str(body.get("request_id")) or upstream_request_id(headers),
    )


def classify(status: int | None, upstream_type: str | None, message: str) -> ErrorKind:
    """The dialect-neutral kind of an upstream error (the order is the module docstring's)."""
    type_kind = _TYPE_KINDS.get(upstream_type or "")
    billing = status in (402, 403, 429) or type_kind in ("rate_limit", "quota_exhausted")
    if billing and (upstream_type == "exceeded_current_quota_error" or is_quota_wording(message)):
        return "quota_exhausted"
    throttled = status == 429 or (status or 0) >= 500 or type_kind in ("rate_limit", "server")
    if throttled and _OVERLOAD_WORDING.search(message):
        return "overloaded"
    if _FILTER_WORDING.search(message):
        return "content_filter"
    if type_kind is not None:
        return type_kind
    return kind_of_status(status)


def _from_text(status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    title = _TITLE.search(body)
    text = (title.group(1) if title else body).decode("utf-8", errors="replace").strip()
    message = _default_message(status)
    if text and not text.lstrip().startswith("<"):
        message = f"{message}: {text[:_SNIPPET]}"
    kind = classify(status, None, message)
    return GatewayError(
        kind,
        message,
        status=status,
        retry_after=retry_after_seconds(headers),
        upstream_request_id=upstream_request_id(headers),
    )


def _default_message(status: int | None) -> str:
    return "upstream stream failed" if status is None else f"upstream returned HTTP {status}"


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def render_error(error: GatewayError) -> tuple[int, dict[str, Any]]:
    """GatewayError → HTTP status and the Anthropic error body."""
    status, wire_type = _RENDERED.get(error.kind, (STATUS_OF_KIND[error.kind], "api_error"))
    return status, error_body(error, wire_type)


def error_event(error: GatewayError) -> dict[str, Any]:
    """The data of a mid-stream ``event: error``."""
    return error_body(error, _RENDERED.get(error.kind, (0, "api_error"))[1])


def error_body(error: GatewayError, wire_type: str) -> dict[str, Any]:
    message = error.message
    if error.param and error.param not in message:
        message = f"{message} (param: {error.param})"
    if error.hint:
        message = f"{message} Hint: {error.hint}"
    body: dict[str, Any] = {"type": "error", "error": {"type": wire_type, "message": message}}
    if error.upstream_request_id:
        body["request_id"] = error.upstream_request_id
    return body

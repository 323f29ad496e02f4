"""Upstream errors → GatewayError (every shape Kimi's Anthropic routes send) and back."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kimi_gateway.core.errors import ErrorKind, GatewayError, TranslationError
from kimi_gateway.dialects.anthropic_messages import parse_error, render_error

OVERLOADED = "The engine is currently overloaded, please try again later"


def anthropic(kind: str, message: str, request_id: str | None = None) -> bytes:
    body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return orjson.dumps(body)


def openai(kind: str, message: str) -> bytes:
    return orjson.dumps({"error": {"type": kind, "message": message}})


NGINX_404 = b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>nginx</body></html>"
NGINX_504 = b"<html><head><title>504 Gateway Time-out</title></head><body></body></html>"

CASES = [
    # (status, body, headers) → (kind, message, upstream_type, retry_after, request id)
    (
        (400, anthropic("invalid_request_error", "text content is empty", "3f84e9cd"), {}),
        ("invalid_request", "text content is empty", "invalid_request_error", None, "3f84e9cd"),
    ),
    (  # docs/kimi.md §14: 401 and 429 come back in the OpenAI shape on the Anthropic route
        (401, openai("invalid_authentication_error", "Invalid Authentication"), {}),
        ("authentication", "Invalid Authentication", "invalid_authentication_error", None, None),
    ),
    (
        (429, openai("engine_overloaded_error", OVERLOADED), {"Retry-After": "1"}),
        ("overloaded", OVERLOADED, "engine_overloaded_error", 1.0, None),
    ),
    (  # §13.4: Kimi Code's Anthropic face calls the overload a rate_limit_error
        (429, anthropic("rate_limit_error", OVERLOADED), {"retry-after-ms": "250"}),
        ("overloaded", OVERLOADED, "rate_limit_error", 0.25, None),
    ),
    (
        (
            429,
            openai("rate_limit_reached_error", "request reached max concurrency: 1"),
            {"x-retry-after": "3", "Msh-Request-Id": "req-9"},
        ),
        (
            "rate_limit",
            "request reached max concurrency: 1",
            "rate_limit_reached_error",
            3.0,
            "req-9",
        ),
    ),
    (
        (
            429,
            openai("exceeded_current_quota_error", "You exceeded your current token quota: 0"),
            {},
        ),
        (
            "quota_exhausted",
            "You exceeded your current token quota: 0",
            "exceeded_current_quota_error",
            None,
            None,
        ),
    ),
    (  # §13.4 Kimi Code usage limits: billing wording on a rate_limit_error
        (429, anthropic("rate_limit_error", "You've reached your usage limit for this period"), {}),
        (
            "quota_exhausted",
            "You've reached your usage limit for this period",
            "rate_limit_error",
            None,
            None,
        ),
    ),
    (
        (
            403,
            anthropic("permission_error", "You've reached your usage limit for this billing cycle"),
            {},
        ),
        (
            "quota_exhausted",
            "You've reached your usage limit for this billing cycle",
            "permission_error",
            None,
            None,
        ),
    ),
    (
        (
            403,
            anthropic(
                "access_terminated_error",
                "Kimi For Coding is currently only available for Coding Agents",
            ),
            {"request-id": "r1"},
        ),
        (
            "permission",
            "Kimi For Coding is currently only available for Coding Agents",
            "access_terminated_error",
            None,
            "r1",
        ),
    ),
    (
        (402, anthropic("billing_error", "unable to verify your membership benefits"), {}),
        (
            "quota_exhausted",
            "unable to verify your membership benefits",
            "billing_error",
            None,
            None,
        ),
    ),
    (
        (
            400,
            anthropic(
                "invalid_request_error",
                "The request was rejected because it was considered high risk",
            ),
            {},
        ),
        (
            "content_filter",
            "The request was rejected because it was considered high risk",
            "invalid_request_error",
            None,
            None,
        ),
    ),
    (
        (404, anthropic("not_found_error", "method not found"), {}),
        ("not_found", "method not found", "not_found_error", None, None),
    ),
    (
        (413, anthropic("request_too_large", "too big"), {}),
        ("request_too_large", "too big", "request_too_large", None, None),
    ),
    (
        (529, anthropic("overloaded_error", "Overloaded"), {}),
        ("overloaded", "Overloaded", "overloaded_error", None, None),
    ),
    ((500, anthropic("api_error", "boom"), {}), ("server", "boom", "api_error", None, None)),
    (
        (503, openai("server_unavailable", ""), {}),
        ("unavailable", "upstream returned HTTP 503", "server_unavailable", None, None),
    ),
    (
        (404, NGINX_404, {}),
        ("not_found", "upstream returned HTTP 404: 404 Not Found", None, None, None),
    ),
    (
        (504, NGINX_504, {}),
        ("timeout", "upstream returned HTTP 504: 504 Gateway Time-out", None, None, None),
    ),
    ((502, b"", {}), ("server", "upstream returned HTTP 502", None, None, None)),
    (
        (400, b"bad things", {}),
        ("invalid_request", "upstream returned HTTP 400: bad things", None, None, None),
    ),
    ((418, b'{"error": "teapot"}', {}), ("invalid_request", "teapot", None, None, None)),
    (
        (429, b"[1]", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        ("rate_limit", "upstream returned HTTP 429: [1]", None, None, None),
    ),
]


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_parse_error(
    given: tuple[int, bytes, dict[str, str]],
    expected: tuple[ErrorKind, str, str | None, float | None, str | None],
) -> None:
    status, body, headers = given
    error = parse_error(status, body, headers)
    assert type(error) is GatewayError
    got = (
        error.kind,
        error.message,
        error.upstream_type,
        error.retry_after,
        error.upstream_request_id,
    )
    assert (got, error.status) == (expected, status)


@pytest.mark.parametrize(
    ("kind", "status", "wire_type"),
    [
        ("invalid_request", 400, "invalid_request_error"),
        ("content_filter", 400, "invalid_request_error"),
        ("authentication", 401, "authentication_error"),
        ("permission", 403, "permission_error"),
        ("not_found", 404, "not_found_error"),
        ("request_too_large", 413, "request_too_large"),
        ("rate_limit", 429, "rate_limit_error"),
        ("quota_exhausted", 402, "billing_error"),
        ("overloaded", 529, "overloaded_error"),
        ("timeout", 504, "timeout_error"),
        ("server", 500, "api_error"),
        ("unavailable", 503, "api_error"),
        ("client_closed", 499, "api_error"),
    ],
)
def test_render_error_per_kind(kind: ErrorKind, status: int, wire_type: str) -> None:
    # The upstream's status does not leak: the kind decides (an overloaded 429 becomes 529).
    error = GatewayError(kind, "it failed", status=429)
    assert render_error(error) == (
        status,
        {"type": "error", "error": {"type": wire_type, "message": "it failed"}},
    )


def test_render_error_carries_request_id_param_and_hint() -> None:
    error = GatewayError(
        "permission",
        "Kimi For Coding is currently only available for Coding Agents",
        param="model",
        upstream_request_id="req-1",
        hint="use the Open Platform",
    )
    assert render_error(error) == (
        403,
        {
            "type": "error",
            "error": {
                "type": "permission_error",
                "message": "Kimi For Coding is currently only available for Coding Agents "
                "(param: model) Hint: use the Open Platform",
            },
            "request_id": "req-1",
        },
    )


def test_a_translation_error_names_its_param_once() -> None:
    error = TranslationError("max_tokens: required", param="max_tokens")
    assert render_error(error) == (
        400,
        {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "max_tokens: required"},
        },
    )


@pytest.mark.parametrize(
    ("status", "kind"), [(401, "authentication"), (429, "rate_limit"), (529, "overloaded")]
)
def test_parse_render_round_trip_keeps_the_kind(status: int, kind: ErrorKind) -> None:
    rendered_status, body = render_error(GatewayError(kind, "m"))
    assert parse_error(rendered_status, orjson.dumps(body), {}).kind == kind
    assert rendered_status == status

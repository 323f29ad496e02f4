"""parse_error / render_error: Kimi error bodies (docs/kimi.md §2) ↔ GatewayError ↔ OpenAI."""

from __future__ import annotations

import orjson
import pytest

from kimi_gateway.core.errors import ErrorKind, GatewayError, TranslationError
from kimi_gateway.dialects.openai_chat import parse_error, render_error


def body(kimi_type: str, message: str) -> bytes:
    return orjson.dumps({"error": {"type": kimi_type, "message": message}})


@pytest.mark.parametrize(
    ("status", "raw", "kind"),
    [
        (
            429,
            body(
                "engine_overloaded_error",
                "The engine is currently overloaded, please try again later",
            ),
            "overloaded",
        ),
        (
            429,
            body(
                "rate_limit_reached_error",
                "Your account org-1<ak-1> request reached max concurrency: 5, "
                "please try again after 1 seconds",
            ),
            "rate_limit",
        ),
        (
            429,
            body(
                "exceeded_current_quota_error",
                "You exceeded your current token quota: 0, please check your account balance",
            ),
            "quota_exhausted",
        ),
        (
            429,
            body(
                "",
                "Your account org-1 <ak-1> is suspended due to insufficient balance, "
                "please recharge your account",
            ),
            "quota_exhausted",
        ),
        (
            429,
            b'{"error":{"message":"Organization Rate limit exceeded, '
            b'please try again after 1 seconds"}}',
            "rate_limit",
        ),
        (429, b'{"error":{"message":"server overloaded"}}', "overloaded"),
        (
            403,
            body("exceeded_current_quota_error", "Your account u<ak> is not active"),
            "quota_exhausted",
        ),
        (
            400,
            body("content_filter", "The request was rejected because it was considered high risk"),
            "content_filter",
        ),
        (
            400,
            body("invalid_request_error", "Invalid request: text content is empty"),
            "invalid_request",
        ),
        (401, body("invalid_authentication_error", "Invalid Authentication"), "authentication"),
        (401, body("incorrect_api_key_error", "Incorrect API key provided"), "authentication"),
        (
            403,
            body("permission_denied_error", "The API you are accessing is not open"),
            "permission",
        ),
        (
            403,
            body(
                "access_terminated_error",
                "Kimi For Coding is currently only available for Coding Agents",
            ),
            "permission",
        ),
        (
            404,
            body("resource_not_found_error", "Not found the model or Permission denied"),
            "not_found",
        ),
        (413, b'{"error":{"message":"Request exceeds the maximum size"}}', "request_too_large"),
        (500, body("server_error", "Failed to extract file: x"), "server"),
        (500, body("unexpected_output", "invalid state transition"), "server"),
        (503, body("server_unavailable", "maintenance"), "unavailable"),
        (499, body("client_closed_request", "gone"), "client_closed"),
        (502, b"Bad Gateway", "server"),
        (418, b"{}", "invalid_request"),
    ],
)
def test_classifies_kimi_errors(status: int, raw: bytes, kind: ErrorKind) -> None:
    assert parse_error(status, raw, {}).kind == kind


def test_keeps_message_type_status_retry_after_and_request_id() -> None:
    raw = body(
        "engine_overloaded_error", "The engine is currently overloaded, please try again later"
    )
    error = parse_error(
        429, raw, {"Retry-After": "2", "Msh-Request-Id": "req-9", "X-Trace-Id": "t"}
    )
    assert (
        error.kind,
        error.message,
        error.status,
        error.param,
        error.retry_after,
        error.upstream_type,
        error.upstream_request_id,
        error.hint,
    ) == (
        "overloaded",
        "The engine is currently overloaded, please try again later",
        429,
        None,
        2.0,
        "engine_overloaded_error",
        "req-9",
        None,
    )


@pytest.mark.parametrize(
    ("headers", "retry_after", "request_id"),
    [
        ({"x-retry-after": "1", "x-msh-trace-id": "m"}, 1.0, "m"),
        ({"retry-after-ms": "1500", "x-trace-id": "t"}, 1.5, "t"),
        ({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, None, None),
        ({"retry-after": "-3", "x-request-id": "r"}, None, "r"),
    ],
)
def test_retry_after_and_request_id_headers(
    headers: dict[str, str], retry_after: float | None, request_id: str | None
) -> None:
    error = parse_error(429, b"{}", headers)
    assert (error.retry_after, error.upstream_request_id) == (retry_after, request_id)


def test_html_504_page() -> None:
    page = (
        b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
        b"<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n"
    )
    error = parse_error(504, page, {})
    assert (error.kind, error.message, error.status, error.upstream_type) == (
        "timeout",
        "504 Gateway Time-out",
        504,
        None,
    )


def test_plain_text_and_empty_bodies() -> None:
    assert parse_error(502, b"upstream   connect error\n", {}).message == "upstream connect error"
    assert parse_error(500, b"", {}).message == "Upstream returned HTTP 500"
    assert parse_error(500, b"\xff\xfe", {}).kind == "server"


def test_non_standard_json_bodies() -> None:
    assert parse_error(400, b'{"error":"bad thing"}', {}).message == "bad thing"
    assert parse_error(404, b'{"detail":"Not Found"}', {}).message == '{"detail":"Not Found"}'
    assert (
        parse_error(400, b'{"message":"flat","type":"invalid_request_error","param":"x"}', {}).param
        == "x"
    )


@pytest.mark.parametrize(
    ("kind", "status", "wire_type", "code"),
    [
        ("invalid_request", 400, "invalid_request_error", None),
        ("authentication", 401, "authentication_error", "invalid_api_key"),
        ("permission", 403, "permission_error", None),
        ("not_found", 404, "not_found_error", None),
        ("request_too_large", 413, "invalid_request_error", "request_too_large"),
        ("rate_limit", 429, "rate_limit_error", "rate_limit_exceeded"),
        ("quota_exhausted", 429, "insufficient_quota", "insufficient_quota"),
        ("overloaded", 429, "server_error", "engine_overloaded"),
        ("content_filter", 400, "invalid_request_error", "content_filter"),
        ("timeout", 504, "server_error", "timeout"),
        ("server", 500, "server_error", None),
        ("unavailable", 503, "server_error", "service_unavailable"),
        ("client_closed", 499, "server_error", None),
    ],
)
def test_renders_openai_error_types(
    kind: ErrorKind, status: int, wire_type: str, code: str | None
) -> None:
    assert render_error(GatewayError(kind, "msg")) == (
        status,
        {"error": {"message": "msg", "type": wire_type, "param": None, "code": code}},
    )


def test_render_keeps_kimi_message_type_as_code_param_and_adds_hint() -> None:
    error = GatewayError(
        "permission",
        "Kimi For Coding is currently only available for Coding Agents",
        upstream_type="access_terminated_error",
        hint="use the Open Platform (api.moonshot.ai) with a platform key",
    )
    assert render_error(error) == (
        403,
        {
            "error": {
                "message": "Kimi For Coding is currently only available for Coding Agents "
                "(hint: use the Open Platform (api.moonshot.ai) with a platform key)",
                "type": "permission_error",
                "param": None,
                "code": "access_terminated_error",
            }
        },
    )
    assert render_error(TranslationError("bad", param="messages[1].content")) == (
        400,
        {
            "error": {
                "message": "bad",
                "type": "invalid_request_error",
                "param": "messages[1].content",
                "code": None,
            }
        },
    )


def test_parse_then_render_keeps_status_and_message() -> None:
    raw = body("rate_limit_reached_error", "request reached max request: 3")
    assert render_error(parse_error(429, raw, {})) == (
        429,
        {
            "error": {
                "message": "request reached max request: 3",
                "type": "rate_limit_error",
                "param": None,
                "code": "rate_limit_reached_error",
            }
        },
    )

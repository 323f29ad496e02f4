"""Error bodies both ways: OpenAI's envelope, non-JSON pages, the retry hints in headers."""

from __future__ import annotations

import orjson
import pytest

from kimi_gateway.core.errors import ErrorKind, GatewayError, TranslationError
from kimi_gateway.dialects.openai_responses import parse_error, render_error


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"error": {"type": "invalid_request_error", "message": "m"}}, "invalid_request"),
        (
            401,
            {"error": {"type": "invalid_request_error", "code": "invalid_api_key", "message": "m"}},
            "authentication",
        ),
        (429, {"error": {"type": "insufficient_quota", "message": "m"}}, "quota_exhausted"),
        (
            429,
            {"error": {"type": "requests", "code": "rate_limit_exceeded", "message": "m"}},
            "rate_limit",
        ),
        (
            500,
            {"error": {"type": "server_error", "code": "server_is_overloaded", "message": "m"}},
            "overloaded",
        ),
        (503, {"error": {"message": "m"}}, "unavailable"),
        (418, {"error": {"message": "m"}}, "invalid_request"),
        (502, {"error": {"message": "m"}}, "server"),
    ],
)
def test_parse_error_classifies(status: int, body: dict[str, object], kind: ErrorKind) -> None:
    error = parse_error(status, orjson.dumps(body), {})
    assert (error.kind, error.status, error.message) == (kind, status, "m")


def test_parse_error_reads_headers_and_non_json() -> None:
    error = parse_error(
        504, b"<html> Gateway   Timeout </html>", {"Retry-After": "3", "x-request-id": "r1"}
    )
    assert (error.kind, error.message, error.retry_after, error.upstream_request_id) == (
        "timeout",
        "<html> Gateway Timeout </html>",
        3.0,
        "r1",
    )


def test_render_error_whole_value() -> None:
    error = TranslationError("bad", param="input[0].role")
    assert render_error(error) == (
        400,
        {
            "error": {
                "message": "bad",
                "type": "invalid_request_error",
                "param": "input[0].role",
                "code": None,
            }
        },
    )
    quota = GatewayError(
        "quota_exhausted", "pay", hint="top up", upstream_type="exceeded_current_quota_error"
    )
    assert render_error(quota) == (
        429,
        {
            "error": {
                "message": "pay (hint: top up)",
                "type": "insufficient_quota",
                "param": None,
                "code": "exceeded_current_quota_error",
            }
        },
    )


def test_render_then_parse_keeps_the_kind() -> None:
    for kind in (
        "invalid_request",
        "authentication",
        "rate_limit",
        "quota_exhausted",
        "overloaded",
        "server",
        "unavailable",
        "timeout",
    ):
        status, body = render_error(GatewayError(kind, "m"))
        assert parse_error(status, orjson.dumps(body), {}).kind == kind

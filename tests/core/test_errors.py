"""GatewayError defaults and the retry classification (docs/kimi.md §2.4)."""

from __future__ import annotations

import pytest

from kimi_gateway.core.errors import (
    STATUS_OF_KIND,
    ErrorKind,
    GatewayError,
    TranslationError,
    is_retryable,
)

RETRYABLE: dict[ErrorKind, bool] = {
    "invalid_request": False,
    "authentication": False,
    "permission": False,
    "not_found": False,
    "request_too_large": False,
    "rate_limit": True,
    "quota_exhausted": False,  # "Do not retry" (docs/kimi.md §2.4)
    "overloaded": True,
    "content_filter": False,
    "timeout": True,
    "server": True,
    "unavailable": True,
    "client_closed": False,
}


@pytest.mark.parametrize(("kind", "expected"), sorted(RETRYABLE.items()))
def test_is_retryable_per_kind(kind: ErrorKind, expected: bool) -> None:
    assert is_retryable(GatewayError(kind, "x")) is expected


def test_every_kind_is_classified() -> None:
    assert set(RETRYABLE) == set(STATUS_OF_KIND)


def test_status_defaults_to_the_kind_and_can_be_overridden() -> None:
    assert GatewayError("overloaded", "busy").status == 429
    assert GatewayError("server", "bad gateway", status=502).status == 502


def test_error_keeps_every_field() -> None:
    error = GatewayError(
        "rate_limit",
        "slow down",
        param="p",
        retry_after=1.5,
        upstream_type="rate_limit_reached_error",
        upstream_request_id="req-1",
        hint="wait",
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
        str(error),
    ) == (
        "rate_limit",
        "slow down",
        429,
        "p",
        1.5,
        "rate_limit_reached_error",
        "req-1",
        "wait",
        "slow down",
    )


def test_translation_error_is_a_400_naming_the_field() -> None:
    error = TranslationError("bad", param="messages[0].content")
    assert (error.kind, error.status, error.param, is_retryable(error)) == (
        "invalid_request",
        400,
        "messages[0].content",
        False,
    )
    assert repr(error) == "GatewayError('invalid_request', 'bad', status=400)"

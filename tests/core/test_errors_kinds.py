"""core/errors.py: the status table and quota wording every dialect classifies with."""

from __future__ import annotations

import orjson
import pytest

from kimi_gateway.core.errors import is_quota_wording, kind_of_status
from kimi_gateway.dialects import anthropic_messages, openai_chat, openai_responses


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (None, "server"),
        (400, "invalid_request"),
        (422, "invalid_request"),
        (402, "quota_exhausted"),
        (413, "request_too_large"),
        (429, "rate_limit"),
        (502, "server"),
        (503, "unavailable"),
        (529, "overloaded"),
    ],
)
def test_kind_of_status(status: int | None, kind: str) -> None:
    assert kind_of_status(status) == kind


def test_quota_wording_covers_billing_and_kimi_code_usage_limits() -> None:
    assert is_quota_wording("You exceeded your current token quota: 0, please check")
    assert is_quota_wording("You've reached your usage limit for this period")  # §13.4
    assert not is_quota_wording("request reached max request: 3, please try again after 1 seconds")


@pytest.mark.parametrize(
    "parse_error",
    [openai_chat.parse_error, anthropic_messages.parse_error, openai_responses.parse_error],
)
def test_every_face_reads_a_kimi_code_usage_limit_as_quota_not_rate_limit(
    parse_error: object,
) -> None:
    # Kimi Code answers a spent plan with a 429 (§13.4); retrying it only burns the client's time.
    body = orjson.dumps(
        {
            "error": {
                "type": "rate_limit_error",
                "message": "You've reached your usage limit for this period",
            }
        }
    )
    error = parse_error(429, body, {})  # type: ignore[operator]
    assert (error.kind, error.status) == ("quota_exhausted", 429)

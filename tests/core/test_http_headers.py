"""Retry-After and request-id headers read by core/http_headers.py (docs/kimi.md §1.1)."""

from __future__ import annotations

import httpx
import pytest

from kimi_gateway.core.http_headers import retry_after_seconds, upstream_request_id


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"x-retry-after": "1"}, 1.0),  # Kimi's 429 sends both names, §1.1 [3M] HALRO
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # the precise one wins
        ({"retry-after": " 0.5 "}, 0.5),
        ({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, None),  # no clock, no date
        ({"retry-after": "-3", "x-retry-after": "4"}, 4.0),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Msh-Request-Id": "m", "request-id": "a", "x-trace-id": "t"}, "m"),
        ({"request-id": "a", "x-request-id": "r"}, "a"),
        ({"X-Trace-Id": "t", "x-msh-trace-id": "mt"}, "t"),
        ({"x-msh-trace-id": "mt", "x-request-id": "r"}, "mt"),
        ({"msh-request-id": "", "x-request-id": "r"}, "r"),  # an empty header is no id
        ({"server": "nginx"}, None),
    ],
)
def test_upstream_request_id_prefers_kimis_own(
    headers: dict[str, str], expected: str | None
) -> None:
    assert upstream_request_id(headers) == expected


def test_reads_httpx_headers() -> None:
    headers = httpx.Headers([("Retry-After", "3"), ("Msh-Request-Id", "req-1")])
    assert (retry_after_seconds(headers), upstream_request_id(headers)) == (3.0, "req-1")

"""What an upstream reply's HTTP headers say about a failure: when to retry, and Kimi's request id.

Pure readers over a header mapping with keys in any case (a dict or ``httpx.Headers``). Both
dialects' error parsers use them, so one Kimi failure gives the same ``retry_after`` and
``upstream_request_id`` whichever face it came from. There is no clock here, so an HTTP-date
``Retry-After`` is not read (Kimi sends seconds, docs/kimi.md §1.1).
"""

from __future__ import annotations

from collections.abc import Mapping

# The first one present wins. Msh-Request-Id is Kimi's per-request id (docs/kimi.md §1.1 [O-code]
# MP); request-id is the Anthropic API's name for the same; x-trace-id (§1.1 KOSONG-PY) and
# x-msh-trace-id (§1.1 [3M] HALRO, seen on 429s) are Kimi's trace ids; x-request-id is what
# generic proxies in front of an upstream add.
_REQUEST_ID_HEADERS = (
    "msh-request-id",
    "request-id",
    "x-trace-id",
    "x-msh-trace-id",
    "x-request-id",
)
# Kimi sends both on a 429 (docs/kimi.md §1.1 [3M] HALRO); the Anthropic SDKs also read
# retry-after-ms, which wins because it is the more precise.
_RETRY_SECONDS_HEADERS = ("retry-after", "x-retry-after")


def upstream_request_id(headers: Mapping[str, str]) -> str | None:
    """The upstream's id for this request, for Kimi support; None when no header carries one."""
    lowered = _lowered(headers)
    return next((lowered[name] for name in _REQUEST_ID_HEADERS if lowered.get(name)), None)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the upstream asks us to wait, from ``retry-after-ms``, ``retry-after`` or
    ``x-retry-after``; None when absent or not a finite non-negative number."""
    lowered = _lowered(headers)
    millis = _seconds(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    for name in _RETRY_SECONDS_HEADERS:
        seconds = _seconds(lowered.get(name))
        if seconds is not None:
            return seconds
    return None


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in headers.items()}


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    # NaN fails both comparisons, so it is refused along with negatives and infinity.
    return number if 0 <= number < float("inf") else None

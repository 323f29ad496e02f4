"""What an upstream reply's HTTP headers say about a failure: when to retry, and Kimi's request id.

Pure readers over a header mapping with keys in any case (a dict or ``httpx.Headers``). Both
dialects' error parsers use them, so one Kimi failure gives the same ``retry_after`` and
``upstream_request_id`` whichever face it came from. Kimi sends seconds (docs/kimi.md §1.1);
an HTTP-date ``Retry-After`` (RFC 9110 §10.2.3) is read against the reply's own ``Date`` header
(the server's clock, so no skew between us and it), else against ``now`` (Unix seconds, passed
in: there is no clock here).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

# The first one present wins. Msh-Request-Id is Kimi's per-request id (docs/kimi.md §1.1 [O-code]
# MP); request-id is the Anthropic API's name for the same; x-trace-id (§1.1 KOSONG-PY) and
# x-msh-trace-id (§1.1 [3M] HALRO, seen on 429s) are Kimi's trace ids; x-request-id is what
# generic proxies in front of an upstream add.
REQUEST_ID_HEADERS = (
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
    return next((lowered[name] for name in REQUEST_ID_HEADERS if lowered.get(name)), None)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the upstream asks us to wait, from ``retry-after-ms``, ``retry-after`` or
    ``x-retry-after`` (seconds or an HTTP-date); None when absent or unreadable. A date in the
    past means 0. ``now``: Unix seconds to read a date against when the reply has no ``Date``."""
    lowered = _lowered(headers)
    millis = _seconds(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    for name in _RETRY_SECONDS_HEADERS:
        value = lowered.get(name)
        seconds = _seconds(value)
        if seconds is None and value is not None:
            seconds = _date_seconds(value, lowered.get("date"), now)
        if seconds is not None:
            return seconds
    return None


def _date_seconds(value: str, date: str | None, now: float | None) -> float | None:
    """Seconds from the reply's Date (else ``now``) until the HTTP-date ``value``."""
    when = _unix(value)
    reference = _unix(date) if date is not None else None
    if reference is None:
        reference = now
    if when is None or reference is None:
        return None
    return max(0.0, when - reference)


def _unix(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
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

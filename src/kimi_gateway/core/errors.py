"""One error tree for the whole gateway, converted at the boundary and rendered per dialect.

Every failure inside the gateway is a :class:`GatewayError` with a dialect-neutral ``kind``.
Dialects map wire errors to kinds and back (docs/kimi.md §16.2 "Errors"). Whether to retry is a
pure function of the error (:func:`is_retryable`), following Moonshot's own client
(docs/kimi.md §2.4, KOSONG-TS ``kimi-errors.ts``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, TypeAlias

ErrorKind: TypeAlias = Literal[
    "invalid_request",  # 400: the request is wrong (param names the field)
    "authentication",  # 401
    "permission",  # 403
    "not_found",  # 404
    "request_too_large",  # 413
    "rate_limit",  # 429: a rate limit; retry after a while
    "quota_exhausted",  # 429/402: balance or plan used up; never retried
    "overloaded",  # 429/529: the engine is overloaded; retry after a while
    "content_filter",  # 400: Kimi's safety review rejected input or output
    "timeout",  # 504 / our own timeouts
    "server",  # 500 and other upstream failures
    "unavailable",  # 503
    "client_closed",  # 499: the caller went away
]

STATUS_OF_KIND: dict[ErrorKind, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "permission": 403,
    "not_found": 404,
    "request_too_large": 413,
    "rate_limit": 429,
    "quota_exhausted": 429,
    "overloaded": 429,
    "content_filter": 400,
    "timeout": 504,
    "server": 500,
    "unavailable": 503,
    "client_closed": 499,
}


# Which kind an HTTP status means when a body names no better one (every dialect reads the same).
KIND_OF_STATUS: Mapping[int, ErrorKind] = {
    400: "invalid_request",
    401: "authentication",
    402: "quota_exhausted",
    403: "permission",
    404: "not_found",
    408: "timeout",
    413: "request_too_large",
    429: "rate_limit",
    499: "client_closed",
    503: "unavailable",
    504: "timeout",
    529: "overloaded",
}

# Moonshot's own client treats these words as "quota exhausted", never retried (docs/kimi.md §2.4
# [O-code] KOSONG-TS), and Kimi Code's usage-limit texts mean the same (§13.4 [O] KCDOCS). One
# list for every face: the same Kimi answer must not be retried on one face and not another.
_QUOTA_WORDING = re.compile(
    r"exceeded your current (?:token )?quota|check your account balance|insufficient balance"
    r"|recharge|in arrears|usage limit",
    re.IGNORECASE,
)


# Kimi's two context-window refusals (docs/kimi.md §2.2: "Input token length too long", "Your
# request exceeded model token limit : N" — Kimi Code without the space), and the OpenAI-style
# wording of hosts serving Kimi's weights (vLLM: "maximum context length is N tokens").
_CONTEXT_OVERFLOW = re.compile(
    r"input token length too long|exceeded model token limit|maximum context length"
    r"|context[_ ]length[_ ]exceeded|prompt is too long",
    re.IGNORECASE,
)


def kind_of_status(status: int | None) -> ErrorKind:
    """The kind an HTTP status alone implies: other 4xx are invalid requests, the rest server."""
    if status is None:
        return "server"
    return KIND_OF_STATUS.get(status, "invalid_request" if 400 <= status < 500 else "server")


def is_quota_wording(message: str) -> bool:
    """Whether an error message speaks of an exhausted balance or plan (not a rate limit)."""
    return _QUOTA_WORDING.search(message) is not None


class GatewayError(Exception):
    """A failure with everything a renderer, the retry policy and the ledger need."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        upstream_type: str | None = None,
        upstream_request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status if status is not None else STATUS_OF_KIND[kind]
        self.param = param
        self.retry_after = retry_after
        self.upstream_type = upstream_type  # Kimi's own ``error.type`` string, kept verbatim
        self.upstream_request_id = upstream_request_id
        self.hint = hint
        self.attempts = 1  # upstream calls made before this error was given up on

    def __repr__(self) -> str:
        return f"GatewayError({self.kind!r}, {self.message!r}, status={self.status})"


class TranslationError(GatewayError):
    """A request or reply that a translator cannot represent faithfully (always a 400)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__("invalid_request", message, param=param)


class OneChoicePerCall(TranslationError):
    """The upstream can give this request only one choice per call (Kimi: ``n > 1`` at a
    temperature near 0, docs/kimi.md §4.2). Raised before anything is sent; the engine answers
    it with ``n`` calls of one choice each (engine/fanout.py). Uncaught, it is the 400 it says."""

    def __init__(self, n: int, message: str) -> None:
        super().__init__(message, param="n")
        self.n = n


_RETRYABLE: frozenset[ErrorKind] = frozenset(
    {"rate_limit", "overloaded", "server", "unavailable", "timeout"}
)


def is_context_overflow(error: GatewayError) -> bool:
    """Whether the upstream refused the request as larger than the model's context window (a
    model with a larger window may still serve it: a fallback trigger, never a retry)."""
    return error.kind == "invalid_request" and _CONTEXT_OVERFLOW.search(error.message) is not None


def is_retryable(error: GatewayError) -> bool:
    """Whether trying the same request again may succeed.

    Quota exhaustion is never retried (docs/kimi.md §2.4: "Do not retry"); other 429s, 5xx and
    timeouts are.
    """
    return error.kind in _RETRYABLE

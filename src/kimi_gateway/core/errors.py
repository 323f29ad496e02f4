"""One error tree for the whole gateway, converted at the boundary and rendered per dialect.

Every failure inside the gateway is a :class:`GatewayError` with a dialect-neutral ``kind``.
Dialects map wire errors to kinds and back (kimi-api.md §16.2 "Errors"). Whether to retry is a
pure function of the error (:func:`is_retryable`), following Moonshot's own client
(kimi-api.md §2.4, KOSONG-TS ``kimi-errors.ts``).
"""

from __future__ import annotations

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

    def __repr__(self) -> str:
        return f"GatewayError({self.kind!r}, {self.message!r}, status={self.status})"


class TranslationError(GatewayError):
    """A request or reply that a translator cannot represent faithfully (always a 400)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__("invalid_request", message, param=param)


_RETRYABLE: frozenset[ErrorKind] = frozenset(
    {"rate_limit", "overloaded", "server", "unavailable", "timeout"}
)


def is_retryable(error: GatewayError) -> bool:
    """Whether trying the same request again may succeed.

    Quota exhaustion is never retried (kimi-api.md §2.4: "Do not retry"); other 429s, 5xx and
    timeouts are.
    """
    return error.kind in _RETRYABLE

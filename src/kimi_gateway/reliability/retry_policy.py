"""When to try an upstream call again, and how long to wait first: pure functions of the error,
the attempt number and the time already spent, plus the retry budget (a share of recent traffic).

Retried (docs/kimi.md §2.4, after Moonshot's own client): rate-limit and overload 429s (waiting
at least their ``Retry-After``), 500/502/503/504 (kind ``server``, ``unavailable``, ``timeout``:
transport failures and our own timeouts included), and, if configured, a stream that ended with
no content at all. Never: quota exhaustion, 4xx requests, content filtering, an open circuit.

Backoff is exponential with full jitter (a uniform draw in [0, base·2^(n-1)], capped), so
clients that failed together do not come back together. A ``Retry-After`` longer than
``max_retry_after`` is not waited for: the caller gets the error (and its Retry-After) at once,
or a fallback takes over. The budget keeps retries below ``ratio`` of the requests of the last
``window`` seconds (plus a floor for quiet times), so an outage is not multiplied by retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kimi_gateway.core.errors import GatewayError, is_retryable

CIRCUIT_OPEN = "circuit_open"  # the upstream_type of the breaker's own refusal: never retried
EMPTY_COMPLETION = "empty_completion"  # the upstream_type of an empty stream
QUEUE_FULL = "queue_full"  # the limits shed the request (503): never retried, may fall back
QUEUE_DEADLINE = "queue_deadline"  # the limits could not admit it in time (429): the same
# The gateway's own refusals: another try here would only be refused again (or wait again).
LOCAL_REFUSALS = frozenset({CIRCUIT_OPEN, QUEUE_FULL, QUEUE_DEADLINE})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 4.0
    max_retry_after: float = 20.0
    max_wait: float = 30.0
    budget_ratio: float = 0.2
    budget_min_per_second: float = 5.0
    budget_window: float = 10.0
    empty_completion: bool = True

    def retryable(self, error: GatewayError) -> bool:
        """Whether ``error`` may go away on another try (the budget and time aside)."""
        if error.upstream_type in LOCAL_REFUSALS:
            return False
        if error.upstream_type == EMPTY_COMPLETION:
            return self.empty_completion
        return is_retryable(error)

    def delay(
        self, error: GatewayError, attempt: int, waited: float, draw: Callable[[], float]
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None: do not retry. ``waited``:
        the backoff already spent on this request; ``draw``: a uniform [0, 1) source."""
        if attempt >= self.max_attempts or not self.retryable(error):
            return None
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        wait: float = draw() * ceiling
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            wait = max(wait, error.retry_after)
        if waited + wait > self.max_wait:
            return None
        return wait


class RetryBudget:
    """Retries allowed: ``ratio`` × requests + ``min_per_second`` × window, over the last
    ``window`` seconds, counted in one-second buckets (a fixed ring: no allocation per call)."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float]) -> None:
        self._ratio = policy.budget_ratio
        self._floor = policy.budget_min_per_second * policy.budget_window
        self._size = max(1, int(policy.budget_window))
        self._clock = clock
        self._stamp = [-1] * self._size  # the second each bucket holds
        self._requests = [0] * self._size
        self._retries = [0] * self._size

    def _bucket(self) -> int:
        second = int(self._clock())
        index = second % self._size
        if self._stamp[index] != second:
            self._stamp[index] = second
            self._requests[index] = 0
            self._retries[index] = 0
        return index

    def _live(self, counts: list[int]) -> int:
        oldest = int(self._clock()) - self._size
        return sum(c for c, s in zip(counts, self._stamp, strict=True) if s > oldest)

    def request(self) -> None:
        """Note one request (each deposits ``ratio`` retries)."""
        self._requests[self._bucket()] += 1

    async def try_retry(self) -> bool:
        """Take one retry from the budget if it has one (async: a shared budget asks Redis)."""
        allowed = self._ratio * self._live(self._requests) + self._floor
        if self._live(self._retries) + 1 > allowed:
            return False
        self._retries[self._bucket()] += 1
        return True

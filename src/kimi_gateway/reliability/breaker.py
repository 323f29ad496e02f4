"""A circuit breaker per upstream: closed → open → half-open → closed, with an injected clock.

Closed: calls pass; each result is counted in one-second buckets. When at least ``min_calls``
calls ended in the last ``window`` seconds and ``failure_ratio`` of them failed, it opens: calls
are refused at once (an ``unavailable`` error with ``upstream_type`` ``circuit_open``, which a
fallback takes over and a retry never repeats) for ``open_seconds``. Then it is half-open:
``half_open_calls`` trial calls pass; one success closes it, one failure opens it again.

What counts as a failure: the upstream being unwell (5xx, timeouts, connection failures,
overload). A rate limit, a quota, a refused request say nothing about its health.
``Breaking`` is the wrapper; :class:`Breaker` is the pure state machine (unit-tested with a fake
clock). A shared (Redis) breaker keeps the same states; see shared.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request
from kimi_gateway.core.upstream import CallContext, Opened, Upstream
from kimi_gateway.reliability.retry_policy import CIRCUIT_OPEN, EMPTY_COMPLETION, LOCAL_REFUSALS
from kimi_gateway.reliability.wrapper import Wrapper

State = Literal["closed", "open", "half_open"]
_UNWELL = frozenset({"server", "unavailable", "timeout", "overloaded"})


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_ratio: float = 0.5
    min_calls: int = 20
    window: float = 10.0
    open_seconds: float = 15.0
    half_open_calls: int = 1


def is_failure(error: GatewayError) -> bool:
    """Whether ``error`` says the upstream is unwell (counts toward opening the breaker)."""
    return (
        error.kind in _UNWELL
        and error.upstream_type not in LOCAL_REFUSALS
        and error.upstream_type != EMPTY_COMPLETION
    )


class Breaker:
    def __init__(self, config: BreakerConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        self._size = max(1, int(config.window))
        self._stamp = [-1] * self._size
        self._calls = [0] * self._size
        self._failures = [0] * self._size
        self._state: State = "closed"
        self._opened_at = 0.0
        self._trials = 0  # trial calls in flight while half-open

    @property
    def state(self) -> State:
        if self._state == "open" and self._clock() - self._opened_at >= self.config.open_seconds:
            self._state, self._trials = "half_open", 0
        return self._state

    @property
    def opened_at(self) -> float:
        """Clock time of the last opening."""
        return self._opened_at

    def force_open(self, seconds: float) -> None:
        """Open now for ``seconds`` (another replica opened it: shared.py)."""
        self._state, self._trials = "open", 0
        self._opened_at = self._clock() - self.config.open_seconds + seconds

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial call through."""
        return max(0.0, self._opened_at + self.config.open_seconds - self._clock())

    def allow(self) -> bool:
        """Whether a call may go now (a half-open breaker counts its trial)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and self._trials < self.config.half_open_calls:
            self._trials += 1
            return True
        return False

    def record(self, failed: bool) -> None:
        """The result of a call that :meth:`allow` let through."""
        if self._state == "half_open":
            self._trials = max(0, self._trials - 1)
            if failed:
                self._open()
            else:
                self._close()
            return
        if self._state == "open":
            return
        index = self._bucket()
        self._calls[index] += 1
        if failed:
            self._failures[index] += 1
            self._judge()

    def release(self) -> None:
        """A call that :meth:`allow` let through ended without a verdict (cancelled)."""
        if self._state == "half_open":
            self._trials = max(0, self._trials - 1)

    def _judge(self) -> None:
        oldest = int(self._clock()) - self._size
        calls = failures = 0
        for stamp, c, f in zip(self._stamp, self._calls, self._failures, strict=True):
            if stamp > oldest:
                calls += c
                failures += f
        if calls >= self.config.min_calls and failures >= self.config.failure_ratio * calls:
            self._open()

    def _bucket(self) -> int:
        second = int(self._clock())
        index = second % self._size
        if self._stamp[index] != second:
            self._stamp[index], self._calls[index], self._failures[index] = second, 0, 0
        return index

    def _open(self) -> None:
        self._state, self._opened_at, self._trials = "open", self._clock(), 0

    def _close(self) -> None:
        self._state = "closed"
        self._stamp = [-1] * self._size


def circuit_open(name: str, retry_in: float) -> GatewayError:
    return GatewayError(
        "unavailable",
        f"the upstream {name} is failing; the gateway stopped sending to it for now",
        retry_after=retry_in,
        upstream_type=CIRCUIT_OPEN,
    )


class Breaking(Wrapper):
    """Refuses calls while the breaker is open; feeds it every call's result."""

    def __init__(self, inner: Upstream, breaker: Breaker) -> None:
        super().__init__(inner)
        self.breaker = breaker

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        breaker = self.breaker
        if not breaker.allow():
            raise circuit_open(self.name, breaker.retry_in())
        try:
            opened = await self.inner.open(request, ctx)
        except GatewayError as error:
            breaker.record(is_failure(error))
            raise
        except BaseException:
            breaker.release()  # cancelled: says nothing about the upstream
            raise
        breaker.record(False)
        return opened

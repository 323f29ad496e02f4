"""Clean shutdown (issue 12 item 6): on SIGTERM the server stops accepting, lets what is in
flight finish until the drain deadline, then ends what is left with the dialect's error event.

Every generation's time limit comes from :meth:`Drain.bound` (an ``asyncio.Timeout`` the relay
already needs for ``total_timeout``). :meth:`Drain.begin` pulls every live limit, and every new
one, in to the drain deadline, so at that moment the relay's own timeout path runs: a stream
gets the dialect's error event and its end, a reply not yet started a 503 in the dialect, and
the access log one line with ``error: shutdown``. Nothing is cancelled from outside, so every
request still ends through its own ``finally`` (after-hooks, access log) exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from kimi_gateway.core.errors import GatewayError


class Drain:
    def __init__(self) -> None:
        self.deadline: float | None = None  # event-loop time at which what is left is ended
        self._live: weakref.WeakSet[asyncio.Timeout] = weakref.WeakSet()

    def bound(self, deadline: float) -> asyncio.Timeout:
        """The time limit for one generation: ``deadline``, or the drain's if sooner."""
        if self.deadline is not None and self.deadline < deadline:
            deadline = self.deadline
        timeout = asyncio.timeout_at(deadline)
        self._live.add(timeout)
        return timeout

    def begin(self, seconds: float) -> None:
        """Start draining: everything in flight must end within ``seconds``."""
        loop = asyncio.get_running_loop()
        self.deadline = end = loop.time() + seconds
        for timeout in list(self._live):
            when = timeout.when()
            if when is None or when > end:
                with contextlib.suppress(RuntimeError):  # not entered yet, or already left
                    timeout.reschedule(end)

    @property
    def ended(self) -> bool:
        """Whether the drain deadline has passed (a time limit that fired now is the drain's)."""
        return self.deadline is not None and asyncio.get_running_loop().time() >= self.deadline

    @staticmethod
    def error() -> GatewayError:
        return GatewayError(
            "unavailable",
            "the gateway is shutting down and could not finish this request; send it again",
            retry_after=1.0,
        )

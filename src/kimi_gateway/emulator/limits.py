"""Organisation rate limits of docs/kimi.md §3: concurrency, RPM, TPM, TPD, with Kimi's messages.

Limits are per organisation and shared across models (§3 [O] HC), so one set of windows lives on
the state. TPM/TPD count prompt tokens + max_completion_tokens (the configured default when
absent), whatever is generated (§3 [O] HC). Concurrency counts requests in flight, which the
app's middleware maintains for every generation endpoint.
"""

from __future__ import annotations

import math
from collections import deque

from kimi_gateway.emulator.config import TierLimits
from kimi_gateway.emulator.errors import EmulatorError, rate_limited
from kimi_gateway.emulator.state import EmulatorState

_MINUTE = 60.0
_DAY = 86_400.0


def _prune(window: deque[tuple[float, int]], now: float, span: float) -> None:
    while window and window[0][0] <= now - span:
        window.popleft()


def _wait(window: deque[tuple[float, int]], now: float, span: float) -> int:
    """Seconds until the oldest entry leaves the window (at least 1)."""
    if not window:
        return 1
    return max(1, math.ceil(window[0][0] + span - now))


def _error(limits: TierLimits, detail: str, retry_after: int) -> EmulatorError:
    if limits.wording == "organization":
        # §2.2 [3M] HALRO 2026-09.
        text = f"Organization Rate limit exceeded, please try again after {retry_after} seconds"
        return rate_limited(text, retry_after)
    return rate_limited(f"Your account {limits.uid}<{limits.ak_id}> {detail}", retry_after)


def admit(state: EmulatorState, prompt_tokens: int, max_tokens: int | None) -> None:
    """Count one generation request against the limits, or raise 429 rate_limit_reached_error.

    The messages are §2.2's verbatim, including the missing space in the TPD one.
    """
    limits = state.config.limits
    completion = max_tokens if max_tokens is not None else state.config.default_max_tokens
    cost = prompt_tokens + completion
    with state.lock:
        now = state.clock()
        minute, day = state.minute_window, state.day_window
        _prune(minute, now, _MINUTE)
        _prune(day, now, _DAY)
        if limits.concurrency is not None and state.in_flight > limits.concurrency:
            n = limits.concurrency
            raise _error(
                limits, f"request reached max concurrency: {n}, please try again after 1 seconds", 1
            )
        if limits.rpm is not None and len(minute) >= limits.rpm:
            t = _wait(minute, now, _MINUTE)
            detail = (
                f"request reached max request: {limits.rpm}, please try again after {t} seconds"
            )
            raise _error(limits, detail, t)
        used_minute = sum(tokens for _, tokens in minute) + cost
        if limits.tpm is not None and used_minute > limits.tpm:
            detail = f"request reached TPM rate limit, current:{used_minute}, limit:{limits.tpm}"
            raise _error(limits, detail, _wait(minute, now, _MINUTE))
        used_day = sum(tokens for _, tokens in day) + cost
        if limits.tpd is not None and used_day > limits.tpd:
            detail = f"request reached TPD rate limit,current:{used_day}, limit:{limits.tpd}"
            raise _error(limits, detail, _wait(day, now, _DAY))
        minute.append((now, cost))
        day.append((now, cost))

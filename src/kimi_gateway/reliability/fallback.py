"""``Fallback``: an Upstream over an ordered chain of (upstream, model) members.

The first member is the route's own target; the others come from the ``fallbacks:`` config
(model → model, global → cn region, Open Platform ↔ Kimi Code, Kimi → an openai_compatible host
serving Kimi's weights). The next member is tried when the current one fails with what another
upstream may not share (docs/kimi.md §2): a retryable failure that its own retries did not cure
(each member is usually a ``Retrying`` already), an open circuit breaker, a limit's queue that
cannot meet the deadline, or a context-window overflow (a member with a larger window may serve
it). Anything else (a bad request, a quota, an auth failure) is the answer.

The Opened that comes back names the member that served (``Opened.upstream`` and ``model``) and
counts every call made (``attempts``), for the response header and the access log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from kimi_gateway.core.errors import GatewayError, is_context_overflow, is_retryable
from kimi_gateway.core.model import Request
from kimi_gateway.core.upstream import CallContext, Opened, Upstream
from kimi_gateway.reliability.retry_policy import CIRCUIT_OPEN, QUEUE_DEADLINE, QUEUE_FULL
from kimi_gateway.reliability.stats import Stats
from kimi_gateway.reliability.wrapper import Wrapper


def why_fall_back(error: GatewayError) -> str | None:
    """Why the next member should be tried after ``error`` (a metrics label), or None."""
    if error.upstream_type == CIRCUIT_OPEN:
        return "circuit_open"
    if error.upstream_type in (QUEUE_FULL, QUEUE_DEADLINE):
        return "limits"
    if is_context_overflow(error):
        return "context_overflow"
    if error.kind == "quota_exhausted":
        return None
    if is_retryable(error):
        return error.kind
    return None


class Fallback(Wrapper):
    """Members in order: (upstream, the upstream's model id). The first member's model is the
    request's own (the engine has already put the routed id there)."""

    def __init__(self, members: Sequence[tuple[Upstream, str]], stats: Stats) -> None:
        super().__init__(members[0][0])
        self.members = tuple(members)
        self.stats = stats

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        attempts = 0
        last = len(self.members) - 1
        for index, (upstream, model) in enumerate(self.members):
            outgoing = request if index == 0 else dataclasses.replace(request, model=model)
            try:
                opened = await upstream.open(outgoing, ctx)
            except GatewayError as error:
                attempts += error.attempts
                why = why_fall_back(error)
                if why is None or index == last:
                    error.attempts = attempts
                    raise

                following = self.members[index + 1][0].name
                self.stats.fallbacks[(upstream.name, following, why)] += 1
                continue
            opened.attempts += attempts
            return opened
        raise AssertionError("unreachable: the last member raises or returns")

"""The engine's hook points: before dispatch (may refuse) and after the generation has ended.

Before-hooks run in order once the request is routed, before any upstream call: authorisation
now; the reliability and ledger issues add limit admission and budget reservation here. Each is
an async callable that raises a GatewayError to refuse. After-hooks get the finished
:class:`~kimi_gateway.core.outcome.Outcome` once, whatever the ending (done, failed, cancelled);
they must be quick and must not raise (a ledger queues the row and returns).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import DialectName, Request
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.principal import Principal
from kimi_gateway.core.records import record
from kimi_gateway.engine.routing import Target


@record
class Dispatch:
    """A routed request about to go upstream: what a before-hook may judge."""

    request: Request  # as the client sent it (parsed)
    principal: Principal
    target: Target
    client: DialectName
    outcome: Outcome  # what the generation did so far (a hook may leave a hold on it)
    counting: bool = False  # a token count, not a generation: no after-hooks will follow


BeforeHook = Callable[[Dispatch], Awaitable[None]]
AfterHook = Callable[[Outcome], None]


async def authorize(dispatch: Dispatch) -> None:
    """A gateway key limited to some models may use only those (by asked or upstream name)."""
    if not dispatch.principal.allows(dispatch.request.model, dispatch.target.model):
        raise GatewayError(
            "permission", f"this gateway key may not use the model {dispatch.request.model!r}"
        )

"""POST /v1/messages/count_tokens, answered by the upstream's own estimate, never a made-up
number.

The Anthropic body is parsed like a Messages request and handed to the engine, which routes and
admits it exactly as a generation (the same preparation) and asks the upstream: for the Open
Platform, Kimi's estimate endpoint (docs/kimi.md §11, §16.2). A faked ``{"input_tokens": 0}``
would stop Claude Code's auto-compaction for good (docs/kimi.md §F1), so where no estimate
exists — models routed to Kimi Code, which has no such endpoint (§13.3 [?]) — the answer is a
404 error, and upstream failures are errors too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.upstream import CallContext
from kimi_gateway.server.asgi import send_json
from kimi_gateway.server.exchange import Exchange


async def count_tokens(ex: Exchange) -> None:
    runtime = ex.runtime
    principal = ex.authenticate()
    default_model = runtime.settings.default_model

    def fill(body: dict[str, Any]) -> None:
        body.setdefault("max_tokens", 1)  # count_tokens bodies carry none; Messages needs it
        body.pop("stream", None)
        if not body.get("model"):
            body["model"] = default_model

    request = await ex.request(fill)
    outcome = ex.record.outcome = Outcome(ex.dialect.name)
    deadline = asyncio.get_running_loop().time() + runtime.settings.total_timeout
    ctx = CallContext(deadline, None, ex.record.request_id, heavy=ex.heavy)
    async with asyncio.timeout_at(deadline):
        total = await runtime.engine.count_tokens(request, principal, outcome, ctx)
    await send_json(ex.send, 200, {"input_tokens": total})

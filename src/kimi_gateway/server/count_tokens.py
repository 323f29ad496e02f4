"""POST /v1/messages/count_tokens, answered by Kimi's own estimate, never a made-up number.

The Anthropic body is parsed like a Messages request, routed like one, fixed up by the quirk
layer for the Open Platform's OpenAI face and sent to ``/v1/tokenizers/estimate-token-count``
as ``{model, messages, tools}``; ``data.total_tokens`` becomes ``input_tokens`` (kimi-api.md §11,
§16.2). A faked ``{"input_tokens": 0}`` would stop Claude Code's auto-compaction for good
(field-lessons §1), so where no estimate exists — models routed to Kimi Code, which has no
such endpoint (§13.3 [?]) — the answer is a 404 error, and upstream failures are errors too.
"""

from __future__ import annotations

import dataclasses

import aiohttp
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.server.asgi import send_json
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.upstream_call import open_call, upstream_error
from kimi_gateway.server.upstreams import Upstream
from kimi_gateway.upstreams.kimi import UpstreamCall, build_upstream_request, profile_for

ESTIMATE_PATH = "/tokenizers/estimate-token-count"


async def count_tokens(ex: Exchange) -> None:
    runtime = ex.runtime
    principal = ex.authenticate()
    body = await ex.json_body()
    body.setdefault("max_tokens", 1)  # count_tokens bodies carry none; Messages requires it
    body.pop("stream", None)
    if not body.get("model"):
        body["model"] = runtime.settings.default_model
    request = ex.dialect.parse_request(body)
    ex.record.model = request.model
    target = runtime.router.resolve(request.model, "anthropic")
    ex.record.upstream, ex.record.upstream_model = target.upstream.name, target.model
    if not principal.allows(request.model, target.model):
        raise GatewayError(
            "permission", f"this gateway key may not use the model {request.model!r}"
        )
    platform = runtime.upstreams.get("platform")
    if target.upstream.product != "platform" or platform is None:
        raise GatewayError(
            "not_found",
            f"token counting is not available for {request.model!r}: it is served by Kimi Code, "
            "which has no token estimate endpoint (only the Open Platform has one)",
        )
    outgoing = dataclasses.replace(request, model=target.model, stream=False)
    profile = profile_for(target.model, product="platform")
    chat = build_upstream_request(outgoing, platform.surface, profile, runtime.policy)
    estimate: dict[str, object] = {
        k: chat.body[k] for k in ("model", "messages", "tools") if k in chat.body
    }
    call = UpstreamCall(
        method="POST",
        url=platform.root + ESTIMATE_PATH,
        headers={"content-type": "application/json"},
        auth_header_name=chat.auth_header_name,
        body=estimate,
        auth_scheme=chat.auth_scheme,
    )
    total = await _estimate(ex, call, platform)
    ex.started = True
    await send_json(ex.send, 200, {"input_tokens": total})


async def _estimate(ex: Exchange, call: UpstreamCall, platform: Upstream) -> int:
    settings = ex.runtime.settings
    response = await open_call(
        ex.runtime.http,
        call,
        platform,
        user_agent=None,
        first_byte_timeout=settings.first_byte_timeout,
        idle_timeout=settings.idle_timeout,
    )
    if response.status >= 300:
        raise await upstream_error(response, platform)
    try:
        payload = orjson.loads(await response.read())
    except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError):
        payload = None
    finally:
        response.release()
    data = payload.get("data") if isinstance(payload, dict) else None
    total = data.get("total_tokens") if isinstance(data, dict) else None
    if not isinstance(total, int) or isinstance(total, bool):
        raise GatewayError("server", "Kimi's token estimate reply had no data.total_tokens")
    return total

"""GET /v1/models and GET /v1/models/{id}: what a client may ask for here.

The list merges each configured product's own model list (its ``/models``, kimi-api.md §11;
the profile table when the upstream cannot be reached) with the configured route names
(aliases), cached for ``models_cache_seconds``. A key limited to some models sees only those.
Rendered in OpenAI's shape, or Anthropic's (``type: model``, ``display_name``, ``has_more``)
when the request carries ``anthropic-version`` as the Anthropic SDK's does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.server.asgi import header, send_json
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.upstreams import Upstream
from kimi_gateway.upstreams.kimi import known_models

_FETCH_TIMEOUT = 10.0


async def list_models(ex: Exchange) -> None:
    principal = ex.authenticate()
    ids = [name for name in await _model_ids(ex) if principal.allows(name)]
    ex.started = True
    if header(ex.scope, b"anthropic-version") is not None:
        data = [_anthropic_entry(name) for name in ids]
        body: dict[str, Any] = {
            "data": data,
            "has_more": False,
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
        }
    else:
        body = {"object": "list", "data": [_openai_entry(name) for name in ids]}
    await send_json(ex.send, 200, body)


async def get_model(ex: Exchange) -> None:
    principal = ex.authenticate()
    name = ex.scope["path"].removeprefix("/v1/models/")
    if name not in await _model_ids(ex) or not principal.allows(name):
        raise GatewayError("not_found", f"The model {name!r} does not exist", param="model")
    ex.started = True
    anthropic = header(ex.scope, b"anthropic-version") is not None
    await send_json(ex.send, 200, _anthropic_entry(name) if anthropic else _openai_entry(name))


def _openai_entry(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "kimi-gateway"}


def _anthropic_entry(name: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": name,
        "display_name": name,
        "created_at": "1970-01-01T00:00:00Z",
    }


async def _model_ids(ex: Exchange) -> list[str]:
    runtime = ex.runtime
    cache = runtime.models_cache
    now = runtime.clock()
    if cache and now < cache["expires"]:
        return list(cache["ids"])
    roots: dict[str, Upstream] = {}
    for upstream in runtime.upstreams.values():
        roots.setdefault(upstream.root, upstream)
    listed = await asyncio.gather(*(_fetch(ex, up) for up in roots.values()))
    ids = list(dict.fromkeys([*runtime.router.advertised(), *(n for part in listed for n in part)]))
    cache.update(expires=now + runtime.settings.models_cache_seconds, ids=ids)
    return list(ids)


async def _fetch(ex: Exchange, upstream: Upstream) -> list[str]:
    headers = upstream.auth_headers()
    user_agent = ex.user_agent()
    if upstream.forward_user_agent and user_agent:
        headers["user-agent"] = user_agent
    try:
        async with ex.runtime.http.get(
            upstream.root + "/models",
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=_FETCH_TIMEOUT),
            allow_redirects=False,
        ) as response:
            raw = await response.read()
            data = orjson.loads(raw).get("data") if response.status == 200 else None
        if isinstance(data, list):
            return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
    except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError):
        pass
    return list(known_models(upstream.product))

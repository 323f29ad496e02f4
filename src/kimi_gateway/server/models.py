"""GET /v1/models and GET /v1/models/{id}: what a client may ask for here.

The list merges each configured product's own model list (its ``/models``, docs/kimi.md §11;
the profile table when the upstream cannot be reached) with the configured route names
(aliases), cached for ``models_cache_seconds``. A key limited to some models sees only those.
Rendered in OpenAI's shape, or Anthropic's (``type: model``, ``display_name``, ``has_more``)
when the request carries ``anthropic-version`` as the Anthropic SDK's does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.upstream import CallContext
from kimi_gateway.server.asgi import header, send_json
from kimi_gateway.server.exchange import Exchange


async def list_models(ex: Exchange) -> None:
    principal = ex.authenticate(master=True)
    ids = [name for name in await _model_ids(ex) if principal.allows(name)]
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
    principal = ex.authenticate(master=True)
    name = ex.scope["path"].removeprefix("/v1/models/")
    if name not in await _model_ids(ex) or not principal.allows(name):
        raise GatewayError("not_found", f"The model {name!r} does not exist", param="model")
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
    deadline = asyncio.get_running_loop().time() + ex.runtime.settings.total_timeout
    ctx = CallContext(deadline, ex.user_agent(), ex.record.request_id)
    return await ex.runtime.engine.models(ctx)

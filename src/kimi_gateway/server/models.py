"""GET /v1/models and GET /v1/models/{id}: what a client may ask for here.

The list merges each configured product's own model list (its ``/models``, docs/kimi.md §11;
the profile table when the upstream cannot be reached) with the configured route names
(aliases), cached for ``models_cache_seconds``. A key limited to some models sees only those.
Each entry keeps what Kimi's list says of the model (``context_length``, ``supports_image_in``,
``supports_video_in``, ``supports_reasoning``, and whatever else it sends: §11); a route name
gets the entry of the model it reaches, from Kimi's list or the profile table
(engine/model_list.py). Rendered in OpenAI's shape, or Anthropic's (``type: model``,
``display_name``, ``has_more``) when the request carries ``anthropic-version`` as the Anthropic
SDK's does; the same fields ride along in both.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.upstream import CallContext, ListedModel
from kimi_gateway.server.asgi import header, send_json
from kimi_gateway.server.exchange import Exchange


async def list_models(ex: Exchange) -> None:
    principal = ex.authenticate(master=True)
    listed = [model for model in await _models(ex) if principal.allows(model.id)]
    if header(ex.scope, b"anthropic-version") is not None:
        body: dict[str, Any] = {
            "data": [_anthropic_entry(model) for model in listed],
            "has_more": False,
            "first_id": listed[0].id if listed else None,
            "last_id": listed[-1].id if listed else None,
        }
    else:
        body = {"object": "list", "data": [_openai_entry(model) for model in listed]}
    await send_json(ex.send, 200, body)


async def get_model(ex: Exchange) -> None:
    principal = ex.authenticate(master=True)
    name = ex.scope["path"].removeprefix("/v1/models/")
    found = next((model for model in await _models(ex) if model.id == name), None)
    if found is None or not principal.allows(name):
        raise GatewayError("not_found", f"The model {name!r} does not exist", param="model")
    anthropic = header(ex.scope, b"anthropic-version") is not None
    await send_json(ex.send, 200, _anthropic_entry(found) if anthropic else _openai_entry(found))


def _openai_entry(model: ListedModel) -> dict[str, Any]:
    envelope = {"id": model.id, "object": "model", "created": 0, "owned_by": "kimi-gateway"}
    return {**envelope, **{k: v for k, v in model.info.items() if k not in envelope}}


def _anthropic_entry(model: ListedModel) -> dict[str, Any]:
    display = model.info.get("display_name")
    envelope = {
        "type": "model",
        "id": model.id,
        "display_name": display if isinstance(display, str) and display else model.id,
        "created_at": "1970-01-01T00:00:00Z",
    }
    return {**envelope, **{k: v for k, v in model.info.items() if k not in envelope}}


async def _models(ex: Exchange) -> list[ListedModel]:
    deadline = asyncio.get_running_loop().time() + ex.runtime.settings.total_timeout
    ctx = CallContext(deadline, ex.user_agent(), ex.record.request_id)
    return await ex.runtime.engine.models(ctx)

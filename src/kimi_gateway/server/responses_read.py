"""GET / DELETE /v1/responses/{id} and GET /v1/responses/{id}/input_items: stored responses,
each visible only to the gateway key that made it (another key gets the same 404 as a missing
id, so ids reveal nothing).

``GET`` returns the response as served (``encrypted_content`` only with
``include=reasoning.encrypted_content``); ``input_items`` lists every item the response was made
from, earlier turns of its chain included, newest first unless ``order=asc``, paged with
``limit`` (1–100, default 20) and ``after`` (an item id), as the API does. ``POST …/cancel`` is
for background responses, which this gateway does not run: a 400 saying so.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs

import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.dialects.openai_responses.envelope import ENCRYPTED_REASONING
from kimi_gateway.dialects.openai_responses.input_items import conversation, listed
from kimi_gateway.ledger.responses import BrokenChain, StoredResponse
from kimi_gateway.server.asgi import JSON_TYPE, send_bytes
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.responses_create import responses_state
from kimi_gateway.server.responses_state import owner

PREFIX = "/v1/responses/"


def _not_found(response_id: str) -> GatewayError:
    return GatewayError("not_found", f"Response with id {response_id!r} not found.")


async def response_item(ex: Exchange) -> None:
    """Every route under /v1/responses/: the id, then nothing, ``input_items`` or ``cancel``."""
    principal = ex.authenticate()
    rest = str(ex.scope["path"])[len(PREFIX) :]
    response_id, _, tail = rest.partition("/")
    method = ex.scope["method"]
    if not response_id or tail not in ("", "input_items", "cancel"):
        raise GatewayError("not_found", f"Unknown request URL: {method} {ex.scope['path']}.")
    if tail == "cancel":
        raise GatewayError(
            "invalid_request", "Only background responses can be cancelled; this gateway runs none."
        )
    state = responses_state(ex)
    store = state.store
    if store is None:
        raise _not_found(response_id)
    who = owner(principal)
    if method == "DELETE" and not tail:
        if not await asyncio.to_thread(store.delete, response_id, who):
            raise _not_found(response_id)
        await _json(ex, {"id": response_id, "object": "response", "deleted": True})
        return
    if method != "GET":
        raise GatewayError("invalid_request", f"{method} is not allowed on {ex.scope['path']}")
    query = parse_qs(ex.scope.get("query_string", b"").decode("latin-1"))
    if tail == "input_items":
        try:
            chain = await asyncio.to_thread(store.chain, response_id, who, time.time())
        except BrokenChain:
            raise _not_found(response_id) from None
        await _json(ex, _page(_items(chain), query))
        return
    found = await asyncio.to_thread(store.get, response_id, who, time.time())
    if found is None:
        raise _not_found(response_id)
    include = query.get("include[]", []) + query.get("include", [])
    await _json(ex, _shown(found.response, ENCRYPTED_REASONING in include))


def _items(chain: list[StoredResponse]) -> list[dict[str, Any]]:
    earlier = conversation((turn.input_items, turn.response) for turn in chain[:-1])
    return [listed(item) for item in (*earlier, *chain[-1].input_items)]


def _page(items: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
    order = query.get("order", ["desc"])[-1]
    if order not in ("asc", "desc"):
        raise GatewayError("invalid_request", "'order' must be 'asc' or 'desc'", param="order")
    try:
        limit = int(query.get("limit", ["20"])[-1])
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise GatewayError("invalid_request", "'limit' must be 1 to 100", param="limit")
    ordered = items if order == "asc" else items[::-1]
    after = query.get("after", [None])[-1]
    if after is not None:
        ids = [item.get("id") for item in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    data = ordered[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": len(ordered) > limit,
    }


def _shown(response: dict[str, Any], sealed: bool) -> dict[str, Any]:
    if sealed:
        return response
    output = [
        {k: v for k, v in item.items() if k != "encrypted_content"}
        if isinstance(item, dict)
        else item
        for item in response.get("output") or []
    ]
    return {**response, "output": output}


async def _json(ex: Exchange, body: dict[str, Any]) -> None:
    await send_bytes(ex.send, 200, orjson.dumps(body), [JSON_TYPE])

"""The admin API, behind the master key (``KIMI_GATEWAY_MASTER_KEY``): gateway keys.

``GET /admin/keys`` lists keys (never the keys themselves), ``POST /admin/keys`` with
``{"name": …, "models": [...]}`` creates one and returns it once, ``DELETE /admin/keys/{id}``
revokes one. Changes reach the in-memory key index at once. Without a master key the admin API
is off (403 saying how to turn it on).
"""

from __future__ import annotations

import asyncio

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.ledger.keys import check_name
from kimi_gateway.server.asgi import send_json
from kimi_gateway.server.auth import presented_key
from kimi_gateway.server.exchange import Exchange


def require_master(ex: Exchange) -> None:
    if ex.runtime.settings.master_key is None:
        raise GatewayError(
            "permission", "the admin API is off: set KIMI_GATEWAY_MASTER_KEY to turn it on"
        )
    if not ex.runtime.keys.is_master(presented_key(ex.scope)):
        raise GatewayError("authentication", "the admin API needs the master key")
    ex.record.key_id = "master"


async def admin_keys(ex: Exchange) -> None:
    method = ex.scope["method"]
    require_master(ex)
    if method == "POST":
        await _create(ex, await ex.json_body())
        return
    store = ex.runtime.store
    if method == "GET":
        records = await asyncio.to_thread(store.all)
        await send_json(ex.send, 200, {"data": [r.public() for r in records]})
        return
    raise GatewayError("invalid_request", f"method {method} is not allowed here")


async def _create(ex: Exchange, body: dict[str, object]) -> None:
    name = body.get("name")
    models = body.get("models", [])
    if not isinstance(name, str):
        raise GatewayError("invalid_request", "name: a non-empty string is required", param="name")
    try:
        name = check_name(name)
    except ValueError as exc:
        raise GatewayError("invalid_request", f"name: {exc}", param="name") from None
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise GatewayError("invalid_request", "models: a list of strings", param="models")
    record, plain = await asyncio.to_thread(ex.runtime.store.create, name, models)
    await ex.runtime.reload_keys()
    await send_json(ex.send, 201, {**record.public(), "key": plain})


async def admin_key(ex: Exchange) -> None:
    """``DELETE /admin/keys/{id}``."""
    require_master(ex)
    key_id = ex.scope["path"].removeprefix("/admin/keys/")
    if not await asyncio.to_thread(ex.runtime.store.revoke, key_id):
        raise GatewayError("not_found", f"no active key with id {key_id!r}")
    await ex.runtime.reload_keys()
    await send_json(ex.send, 200, {"id": key_id, "revoked": True})

"""POST /v1/responses: the OpenAI Responses face of the engine (Codex CLI, the openai SDK's
``responses.create`` / ``responses.stream``, the Vercel AI SDK's default OpenAI provider).

body ─(previous_response_id: the stored chain's items before ``input``; namespace tools
flattened, namespaces.py)─▶ parse (reasoning ``encrypted_content`` unsealed) ─▶ hosted tools
placed (responses_tools.py) ─▶ relay's serve_generation, rendered with an Envelope (the
gateway's own ``resp_`` id, the request's parameters echoed, reasoning sealed when ``include``
asks) ─▶ before the reply's last bytes, the response stored (``store`` not false), so the
client's next request can name it at once.

Who may continue or read a stored response: the gateway key that made it (responses_state.owner).
What does not belong here: GET / DELETE / input_items (responses_read.py), the translation
(dialects/openai_responses), the store's SQL (ledger/responses.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Response
from kimi_gateway.core.principal import Principal
from kimi_gateway.dialects.openai_responses import StreamRenderer, parse_request, render_response
from kimi_gateway.dialects.openai_responses.envelope import (
    Envelope,
    echo_fields,
    wants_encrypted_reasoning,
)
from kimi_gateway.dialects.openai_responses.input_items import (
    conversation,
    own_items,
    reference,
)
from kimi_gateway.dialects.openai_responses.losses import response_losses
from kimi_gateway.dialects.openai_responses.namespaces import flatten
from kimi_gateway.ledger.responses import BrokenChain, StoredResponse
from kimi_gateway.server.exchange import Exchange
from kimi_gateway.server.relay import Reply, serve_generation
from kimi_gateway.server.responses_state import ResponsesState, owner
from kimi_gateway.server.responses_tools import plan_tools, search_opener


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def responses_state(ex: Exchange) -> ResponsesState:
    state = ex.runtime.responses
    if state is None:  # the runtime always builds it; a test runtime may not
        raise GatewayError("unavailable", "the Responses API is not set up on this gateway")
    return state


async def create_response(ex: Exchange) -> None:
    principal = ex.authenticate()
    state = responses_state(ex)
    body, previous = await _body(ex)
    mine = await _resolve_references(state, own_items(body["input"], new_id), principal)
    chain = await _chain(state, previous, principal) if previous else []
    history = conversation((turn.input_items, turn.response) for turn in chain)
    wire, namespaces = flatten({**body, "input": [*history, *mine]})
    request = parse_request(wire, unseal=state.sealer.unseal)
    target = ex.runtime.engine.router.resolve(request.model, "openai_responses")
    request, search = plan_tools(request, target.upstream)
    now = time.time()
    stored = state.store is not None and body.get("store") is not False
    envelope = Envelope(
        id=new_id("resp"),
        created_at=int(now),
        echo=echo_fields({**body, "previous_response_id": previous, "store": stored}),
        seal=state.sealer.seal if wants_encrypted_reasoning(body) else None,
        namespaces=namespaces,
    )
    settle = _saver(state, envelope, principal, previous, mine, now) if stored else None
    engine = ex.runtime.engine
    reply = Reply(
        renderer=lambda: StreamRenderer(envelope=envelope),
        body=lambda result: render_response(result, None, envelope),
        losses=response_losses,
        settle=settle,
        open=search_opener(engine, state.settings.web_search_rounds) if search else None,
    )
    await serve_generation(ex, principal, request, reply)
    if chain and state.store is not None:  # an active conversation keeps its start
        await asyncio.to_thread(state.store.renew, [turn.id for turn in chain], state.expiry())


async def _body(ex: Exchange) -> tuple[dict[str, Any], str | None]:
    """The request body (the default model filled in) and its previous_response_id."""
    body = await ex.json_body()
    if not body.get("model"):
        body["model"] = ex.runtime.settings.default_model
    previous = body.pop("previous_response_id", None)
    if previous is not None and not isinstance(previous, str):
        raise GatewayError(
            "invalid_request",
            "'previous_response_id' must be a string",
            param="previous_response_id",
        )
    if body.get("input") is None:
        raise GatewayError("invalid_request", "'input' is required.", param="input")
    return body, previous


async def _resolve_references(
    state: ResponsesState, items: list[dict[str, Any]], principal: Principal
) -> list[dict[str, Any]]:
    """``item_reference`` items replaced by the stored items they name (the same key's)."""
    if not any(item.get("type") == "item_reference" for item in items):
        return items
    stored: dict[str, StoredResponse | None] = {}
    out: list[dict[str, Any]] = []
    for item in items:
        if item.get("type") != "item_reference":
            out.append(item)
            continue
        where = reference(item)
        found = None
        if where is not None and state.store is not None:
            rid, index = where
            if rid not in stored:
                get = state.store.get
                stored[rid] = await asyncio.to_thread(get, rid, owner(principal), time.time())
            record = stored[rid]
            output = record.response.get("output") if record is not None else None
            found = output[index] if isinstance(output, list) and index < len(output) else None
        if not isinstance(found, dict):
            raise GatewayError(
                "not_found", f"Item with id {item.get('id')!r} not found.", param="input"
            )
        out.append(found)
    return out


async def _chain(state: ResponsesState, previous: str, principal: Principal) -> list[Any]:
    if state.store is None:
        raise GatewayError(
            "invalid_request",
            "'previous_response_id' needs the gateway's response store, which is off "
            "(responses.store: false): send the whole conversation in 'input'.",
            param="previous_response_id",
        )
    try:
        return await asyncio.to_thread(state.store.chain, previous, owner(principal), time.time())
    except BrokenChain as broken:
        which = "" if broken.missing == previous else f" (an earlier turn, {broken.missing!r})"
        raise GatewayError(
            "not_found",
            f"Previous response with id {previous!r} not found{which}: it expired, was deleted, "
            "or was made with another key.",
            param="previous_response_id",
        ) from None


def _saver(
    state: ResponsesState,
    envelope: Envelope,
    principal: Principal,
    previous: str | None,
    mine: list[dict[str, Any]],
    now: float,
) -> Callable[[Response], Awaitable[None]]:
    """Stores the finished response (reasoning always sealed: the next turn restores it)."""
    stored_form = dataclasses.replace(envelope, seal=state.sealer.seal)

    async def save(result: Response) -> None:
        body = render_response(result, None, stored_form)
        record = StoredResponse(
            id=str(body["id"]),
            key_id=owner(principal),
            previous_id=previous,
            model=result.model,
            status=str(body["status"]),
            created_at=now,
            expires_at=state.expiry(now),
            input_items=mine,
            response=body,
        )
        await asyncio.to_thread(state.save, record)

    return save

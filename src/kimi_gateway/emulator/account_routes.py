"""The non-chat endpoints of both products: model lists, token estimate, balance (§11, §13).

`GET /v1/models` and `GET /coding/v1/models` list catalog.py's profiles; the estimate counts a
`{model, messages}` body exactly as the chat endpoint counts its prompt (so the two agree);
the balance shows what served requests have drawn down (balance.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kimi_gateway.emulator import auth, catalog, errors, intake
from kimi_gateway.emulator.balance import balance_body
from kimi_gateway.emulator.errors import EmulatorError, invalid_request, openai_error_response
from kimi_gateway.emulator.openai_messages import MessageRules, neutral_messages
from kimi_gateway.emulator.script import TurnInput, prompt_tokens_of
from kimi_gateway.emulator.state import EmulatorState


def _json(value: object) -> Response:
    return Response(orjson.dumps(value), media_type="application/json")


def _model_list(profiles: tuple[catalog.ModelProfile, ...]) -> dict[str, object]:
    return {"object": "list", "data": [catalog.model_entry(p) for p in profiles]}


def _estimate(body: Any, state: EmulatorState) -> dict[str, object]:
    """`{"data":{"total_tokens":N}}` (§11 [O] OAS, CB) for a chat-shaped body."""
    if not isinstance(body, dict):
        raise invalid_request("Invalid request: the body must be a JSON object")  # invented
    model = body.get("model")
    found = isinstance(model, str) and catalog.find_platform_model(
        model, state.config.retired_models_404
    )
    if not found:
        raise errors.model_not_found()
    rules = MessageRules(thinking=False, reject_http_images=False, kimi_code=False)
    messages, dynamic = neutral_messages(body.get("messages"), rules)
    raw_tools = body.get("tools")
    tools: list[Any] = raw_tools if isinstance(raw_tools, list) else []
    names = tuple(
        str(t["function"].get("name"))
        for t in tools
        if isinstance(t, dict) and isinstance(t.get("function"), dict)
    )
    turn = TurnInput(str(model), messages, names + dynamic, False, None)
    return {"data": {"total_tokens": prompt_tokens_of(turn)}}


def account_routes(state: EmulatorState) -> list[BaseRoute]:
    async def models(request: Request) -> Response:
        auth.authenticate_platform(request, state.config)
        include_retired = not state.config.retired_models_404
        return _json(_model_list(catalog.platform_models(include_retired)))

    async def coding_models(request: Request) -> Response:
        auth.authenticate_kimi_code(request, state.config)
        return _json(_model_list(catalog.kimi_code_models()))

    async def estimate(request: Request) -> Response:
        auth.authenticate_platform(request, state.config)
        return _json(_estimate(intake.decode_json(await request.body()), state))

    async def balance(request: Request) -> Response:
        auth.authenticate_platform(request, state.config)
        return _json(balance_body(state))

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except EmulatorError as err:
                return openai_error_response(err)
            return response

        return endpoint

    return [
        Route("/v1/models", guarded(models), methods=["GET"]),
        Route("/coding/v1/models", guarded(coding_models), methods=["GET"]),
        Route("/v1/tokenizers/estimate-token-count", guarded(estimate), methods=["POST"]),
        Route("/v1/users/me/balance", guarded(balance), methods=["GET"]),
    ]

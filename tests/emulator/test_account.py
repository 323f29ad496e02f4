"""Model lists, the token estimate and the balance (docs/kimi.md §11)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import httpx
import openai
import pytest

from kimi_gateway.emulator.balance import request_cost
from kimi_gateway.emulator.server import EmulatorServer

from .conftest import HI, WEATHER_TOOL


def test_models_list_with_sdk(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == [
        "moonshot-v1-8k",
        "moonshot-v1-32k",
        "moonshot-v1-128k",
        "moonshot-v1-auto",
        "moonshot-v1-8k-vision-preview",
        "moonshot-v1-32k-vision-preview",
        "moonshot-v1-128k-vision-preview",
        "kimi-k2-0711-preview",
        "kimi-k2-0905-preview",
        "kimi-k2-turbo-preview",
        "kimi-k2-thinking",
        "kimi-k2-thinking-turbo",
        "kimi-k2.5",
        "kimi-k2.6",
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
        "kimi-k3",
    ]


def test_model_entry_shape(raw: httpx.Client) -> None:
    listing = raw.get("/v1/models").json()
    assert listing["object"] == "list"
    k3 = next(m for m in listing["data"] if m["id"] == "kimi-k3")
    assert k3 == {
        "id": "kimi-k3",
        "object": "model",
        "created": 1_750_000_000,
        "owned_by": "moonshot",
        "context_length": 1_048_576,
        "supports_image_in": True,
        "supports_video_in": True,
        "supports_reasoning": True,
    }


def test_estimate_matches_chat_prompt_tokens(raw: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello there"},
    ]
    estimate = raw.post(
        "/v1/tokenizers/estimate-token-count", json={"model": "kimi-k2.6", "messages": messages}
    )
    assert estimate.status_code == 200
    chat = raw.post(
        "/v1/chat/completions", json={"model": "kimi-k2.6", "messages": messages}
    ).json()
    assert estimate.json() == {"data": {"total_tokens": chat["usage"]["prompt_tokens"]}}
    with_tools = {"model": "kimi-k2.6", "messages": messages, "tools": [WEATHER_TOOL]}
    bigger = raw.post("/v1/tokenizers/estimate-token-count", json=with_tools).json()
    assert bigger["data"]["total_tokens"] > estimate.json()["data"]["total_tokens"]


def test_estimate_unknown_model(raw: httpx.Client) -> None:
    response = raw.post(
        "/v1/tokenizers/estimate-token-count", json={"model": "nope", "messages": HI}
    )
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "resource_not_found_error"


def test_balance_shape_and_draw_down(raw: httpx.Client, kimi_emulator: EmulatorServer) -> None:
    assert raw.get("/v1/users/me/balance").json() == {
        "code": 0,
        "data": {"available_balance": 100.0, "voucher_balance": 0.0, "cash_balance": 100.0},
        "scode": "0x0",
        "status": True,
    }
    usage = raw.post("/v1/chat/completions", json={"model": "kimi-k2.6", "messages": HI}).json()[
        "usage"
    ]
    cost = request_cost(
        kimi_emulator.state,
        "kimi-k2.6",
        usage["prompt_tokens"],
        usage["cached_tokens"],
        usage["completion_tokens"],
    )
    after = raw.get("/v1/users/me/balance").json()["data"]
    assert Decimal(str(after["available_balance"])) == Decimal(100) - cost
    assert (
        cost
        == (
            Decimal(usage["prompt_tokens"]) * Decimal("0.60")
            + Decimal(usage["completion_tokens"]) * Decimal("2.50")
        )
        / 1_000_000
    )


def test_quota_exhausted_and_vouchers_first(
    kimi_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    server = kimi_emulator_factory(
        initial_cash_balance="0.00001",
        initial_voucher_balance="0.00002",
        prices={"input_per_mtok": 1000, "cached_input_per_mtok": 100, "output_per_mtok": 1000},
    )
    client = openai.OpenAI(base_url=server.platform_url, api_key="sk-x", max_retries=0)
    client.chat.completions.create(model="moonshot-v1-8k", messages=HI)
    with httpx.Client(base_url=server.url, headers={"authorization": "Bearer sk-x"}) as raw:
        data = raw.get("/v1/users/me/balance").json()["data"]
    assert data["voucher_balance"] == 0.0
    assert data["cash_balance"] < 0
    assert data["available_balance"] == 0.0
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="moonshot-v1-8k", messages=HI)
    assert caught.value.body == {
        "type": "exceeded_current_quota_error",
        "message": "You exceeded your current token quota: 0, please check your account balance",
    }
    assert "retry-after" not in caught.value.response.headers


def test_model_prices_override(kimi_emulator_factory: Callable[..., EmulatorServer]) -> None:
    server = kimi_emulator_factory(
        model_prices={"kimi-k3": {"input_per_mtok": 0, "output_per_mtok": 0}}
    )
    with httpx.Client(base_url=server.url, headers={"authorization": "Bearer sk-x"}) as raw:
        raw.post("/v1/chat/completions", json={"model": "kimi-k3", "messages": HI})
        assert raw.get("/v1/users/me/balance").json()["data"]["available_balance"] == 100.0

"""GET /v1/models keeps what Kimi's list says of each model (issue 9 item 9; docs/kimi.md §11:
``context_length``, ``supports_image_in``, ``supports_video_in``, ``supports_reasoning``, Kimi
Code's ``display_name``) and gives route names (aliases) the entry of the model they reach, from
Kimi's list or, where Kimi lists no such id, from the profile table; read with the official
SDKs (``model_extra``)."""

from __future__ import annotations

from typing import Any

import anthropic
import openai

# What the emulator's lists say (emulator/catalog.py, after docs/kimi.md §4.1, §11).
K26 = {
    "context_length": 262144,
    "supports_image_in": True,
    "supports_video_in": True,
    "supports_reasoning": True,
}
K3 = {**K26, "context_length": 1048576}
FOR_CODING = {
    "context_length": 262144,
    "supports_image_in": True,
    "supports_video_in": False,
    "supports_reasoning": True,
    "display_name": "Kimi For Coding",
}
# Kimi Code takes `k2.7` as a request name but does not list it: the profile table's entry.
K27_PROFILE = {
    "context_length": 262144,
    "supports_image_in": True,
    "supports_video_in": False,
    "supports_reasoning": True,
}
ROUTES = {
    "team-big": {"upstream": "platform", "model": "kimi-k3"},
    "team-coder": {"upstream": "code_openai", "model": "k2.7"},
    "team-kimi-code": {"upstream": "code_openai", "model": "kimi-for-coding"},
}


def test_openai_sdk_reads_kimi_s_fields(gateway: Any) -> None:
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="x", max_retries=0)
    by_id = {model.id: model for model in client.models.list()}
    assert by_id["kimi-k2.6"].model_extra == K26
    assert (by_id["kimi-k2.6"].object, by_id["kimi-k2.6"].owned_by) == ("model", "kimi-gateway")
    assert by_id["kimi-for-coding"].model_extra == FOR_CODING
    assert client.models.retrieve("kimi-k3").model_extra == K3


def test_route_names_get_the_entry_of_what_they_reach(gateway_pool: Any) -> None:
    gateway = gateway_pool.get(routes=ROUTES)
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="x", max_retries=0)
    by_id = {model.id: model.model_extra for model in client.models.list()}
    assert (by_id["team-big"], by_id["team-coder"], by_id["team-kimi-code"]) == (
        K3,
        K27_PROFILE,
        FOR_CODING,
    )
    assert client.models.retrieve("team-big").model_extra == K3


def test_anthropic_sdk_sees_the_same_fields(gateway_pool: Any) -> None:
    gateway = gateway_pool.get(routes=ROUTES)
    client = anthropic.Anthropic(base_url=gateway.url, api_key="x", max_retries=0)
    by_id = {model.id: model for model in client.models.list()}
    assert (by_id["team-big"].display_name, by_id["team-big"].model_extra) == ("team-big", K3)
    kimi_code = by_id["kimi-for-coding"]
    assert kimi_code.display_name == "Kimi For Coding"
    assert kimi_code.model_extra == {k: v for k, v in FOR_CODING.items() if k != "display_name"}

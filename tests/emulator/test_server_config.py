"""EmulatorConfig loading and the EmulatorServer lifecycle."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from kimi_gateway.emulator.config import EmulatorConfig, FaultRule, load_emulator_config
from kimi_gateway.emulator.server import EmulatorServer

YAML = """\
platform_keys: [sk-ci]
seed: 42
initial_cash_balance: 5.5
require_coding_agent_ua: true
faults:
  - kind: engine_overloaded
    every: 2
    path: /v1/chat
    retry_after: 4
limits:
  rpm: 100
  uid: org-1
"""


def test_load_yaml(tmp_path: Path) -> None:
    path = tmp_path / "emulator.yaml"
    path.write_text(YAML)
    config = load_emulator_config(str(path))
    assert config.platform_keys == ("sk-ci",)
    assert (config.seed, config.initial_cash_balance) == (42, Decimal("5.5"))
    assert config.faults == (
        FaultRule(kind="engine_overloaded", every=2, path="/v1/chat", retry_after=4),
    )
    assert (config.limits.rpm, config.limits.uid, config.limits.tpm) == (100, "org-1", None)
    assert config.require_coding_agent_ua is True


def test_defaults_are_quiet() -> None:
    config = load_emulator_config(None)
    assert config == EmulatorConfig()
    assert (config.faults, config.limits.rpm, config.require_coding_agent_ua) == ((), None, False)


@pytest.mark.parametrize(
    "text",
    ["faults: [{kind: explode}]", "limits: {rpm: 0}", "unknown_field: 1", "- a list"],
)
def test_invalid_yaml_config_fails(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises((pydantic.ValidationError, ValueError)):
        load_emulator_config(str(path))


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_emulator_config(str(path)) == EmulatorConfig()


def test_server_context_manager_and_reconfigure() -> None:
    with EmulatorServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
        body: dict[str, Any] = {
            "model": "kimi-k2.6",
            "messages": [{"role": "user", "content": "hi"}],
        }
        headers = {"authorization": "Bearer sk-a"}
        assert (
            httpx.post(
                server.platform_url + "/chat/completions", json=body, headers=headers
            ).status_code
            == 200
        )
        server.reconfigure(EmulatorConfig(platform_keys=("sk-b",)))
        assert server.requests() == []
        assert (
            httpx.post(
                server.platform_url + "/chat/completions", json=body, headers=headers
            ).status_code
            == 401
        )
        server.reset()
        assert server.requests() == []
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/models")


def test_retired_models_switch(kimi_emulator_factory: Any) -> None:
    server: EmulatorServer = kimi_emulator_factory(retired_models_404=True)
    headers = {"authorization": "Bearer sk-a"}
    ids = [m["id"] for m in httpx.get(server.url + "/v1/models", headers=headers).json()["data"]]
    assert "kimi-k2-thinking" not in ids
    assert "kimi-k2.6" in ids
    body = {"model": "kimi-k2-turbo-preview", "messages": [{"role": "user", "content": "hi"}]}
    assert (
        httpx.post(server.url + "/v1/chat/completions", json=body, headers=headers).status_code
        == 404
    )


def test_kimi_code_accepts_unknown_models_when_switched(kimi_emulator_factory: Any) -> None:
    server: EmulatorServer = kimi_emulator_factory(kimi_code_unknown_model="accept")
    body = {"model": "whatever-model", "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(
        server.url + "/coding/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer sk-kimi-a"},
    )
    # §13.1 [3M] HALRO: the unknown name is echoed back, as on the Anthropic face.
    assert (response.status_code, response.json()["model"]) == (200, "whatever-model")


def test_http_images_accepted_when_switched(kimi_emulator_factory: Any) -> None:
    server: EmulatorServer = kimi_emulator_factory(reject_http_image_urls=False)
    content = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": content}]}
    assert (
        httpx.post(
            server.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer sk-a"}
        ).status_code
        == 200
    )


def test_documented_yaml_example_loads(tmp_path: Path) -> None:
    doc = Path(__file__).parents[2] / "docs" / "emulator.md"
    example = doc.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "documented.yaml"
    path.write_text(example)
    config = load_emulator_config(str(path))
    assert config.limits.tpd == 1_500_000
    assert config.model_prices["kimi-k3"].output_per_mtok == Decimal("4.0")
    # The documented values of every section are the defaults.
    assert (config.files, config.anthropic) == (EmulatorConfig().files, EmulatorConfig().anthropic)
    assert config.limits.gid == "enterprise-tier-5"
    assert (config.reject_images_without_vision, config.kimi_code_require_prompt_cache_key) == (
        True,
        False,
    )
    assert config.tool_choice_thinking_rejected == (
        "kimi-k2.5",
        "kimi-k2.6",
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
    )

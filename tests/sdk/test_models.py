"""models(): the names the emulator's products list, with each one's capabilities from the
profiles, cached for models_cache_seconds."""

from __future__ import annotations

from pathlib import Path

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.sdk import Kimi, ModelInfo

from .conftest import CODE_KEY, PLATFORM_KEY


def model_lists(emulator: EmulatorServer) -> int:
    return len([r for r in emulator.requests() if str(r["path"]).endswith("/models")])


def test_models_carry_capabilities_and_are_cached(
    kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    models = {m.id: m for m in kimi.models()}
    assert models["kimi-k2.6"] == ModelInfo(
        id="kimi-k2.6",
        product="platform",
        context_window=262144,
        thinking="switchable",
        thinking_default_on=True,
        reasoning_efforts=(),
        image_input=True,
        video_input=True,
        max_tools=None,
        max_output_tokens=None,
        known=True,
    )
    assert models["kimi-k3"].reasoning_efforts == ("low", "high", "max")
    assert models["moonshot-v1-8k"].context_window == 8192
    assert model_lists(kimi_emulator) == 1
    kimi.models()
    assert model_lists(kimi_emulator) == 1  # within the TTL: not asked again


def test_no_ttl_asks_every_time_and_both_products_are_listed(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    with Kimi(
        PLATFORM_KEY,
        kimi_emulator.platform_url,
        code_api_key=CODE_KEY,
        code_base_url=kimi_emulator.url + "/coding",
        models_cache_seconds=0,
        data_dir=tmp_path,
    ) as kimi:
        first = {m.id: m for m in kimi.models()}
        kimi.models()
    assert model_lists(kimi_emulator) == 4  # each product's list, twice
    assert first["kimi-for-coding"].product == "kimi_code"
    assert first["kimi-for-coding"].context_window == 262144
    assert first["kimi-k2.6"].product == "platform"

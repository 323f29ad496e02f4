"""Named upstreams from config: several Kimi accounts and regions side by side, routes that
target them by name, the environment's entries unchanged, and config errors that name the
entry and field."""

from __future__ import annotations

from typing import Any, cast

import aiohttp
import pytest

from kimi_gateway.engine.build import quirk_policy
from kimi_gateway.engine.routing import Router
from kimi_gateway.settings import Settings, SettingsError, load_settings
from kimi_gateway.upstreams.config import BuildContext, UpstreamConfigError
from kimi_gateway.upstreams.http import Timeouts, UpstreamHttp
from kimi_gateway.upstreams.kimi.upstream import KimiUpstream
from kimi_gateway.upstreams.registry import build_upstreams

TWO_ACCOUNTS: dict[str, Any] = {
    "api_key": "sk-global",
    "upstreams": [
        {"name": "cn", "kind": "kimi_platform", "api_key": "sk-cn", "options": {"region": "cn"}},
        {"name": "team-b", "kind": "kimi_platform", "api_key": "sk-team-b"},
    ],
    "routes": {
        "kimi-k2.6-cn": {"upstream": "cn", "model": "kimi-k2.6"},
        "team-b-k2.6": {"upstream": "team-b_anthropic", "model": "kimi-k2.6"},
    },
}


def _built(settings: Settings) -> dict[str, KimiUpstream]:
    http = UpstreamHttp(cast(aiohttp.ClientSession, None), Timeouts())
    ctx = BuildContext(http, quirk_policy(settings))
    built = build_upstreams(settings.upstream_entries(), ctx)
    return {name: cast(KimiUpstream, up) for name, up in built.items()}


def test_two_accounts_and_two_regions_side_by_side() -> None:
    settings = Settings.model_validate(TWO_ACCOUNTS)
    upstreams = _built(settings)
    assert {name: up.surface.url for name, up in upstreams.items()} == {
        "platform": "https://api.moonshot.ai/v1/chat/completions",
        "platform_anthropic": "https://api.moonshot.ai/anthropic/v1/messages",
        "cn": "https://api.moonshot.cn/v1/chat/completions",
        "cn_anthropic": "https://api.moonshot.cn/anthropic/v1/messages",
        "team-b": "https://api.moonshot.ai/v1/chat/completions",
        "team-b_anthropic": "https://api.moonshot.ai/anthropic/v1/messages",
    }
    assert upstreams["cn"].auth_headers() == {"authorization": "Bearer sk-cn"}
    assert upstreams["team-b_anthropic"].auth_headers() == {"authorization": "Bearer sk-team-b"}
    router = Router(settings, upstreams)
    cn = router.resolve("kimi-k2.6-cn", "openai_chat")
    team_b = router.resolve("team-b-k2.6", "openai_chat")
    default = router.resolve("kimi-k2.6", "anthropic_messages")
    assert (cn.upstream.name, cn.model) == ("cn", "kimi-k2.6")
    assert (team_b.upstream.name, team_b.model) == ("team-b_anthropic", "kimi-k2.6")
    # Unrouted names still go to the environment's account, the first in order.
    assert default.upstream.name == "platform_anthropic"


def test_without_environment_keys_the_first_entry_is_the_default() -> None:
    settings = Settings.model_validate({"upstreams": TWO_ACCOUNTS["upstreams"]})
    assert settings.has_upstream_key
    router = Router(settings, _built(settings))
    assert router.resolve("kimi-k2.6", "openai_chat").upstream.name == "cn"
    assert router.resolve("claude-opus-4", "anthropic_messages").model == "kimi-k3"


def test_an_entry_named_like_the_environments_replaces_it() -> None:
    settings = Settings.model_validate(
        {
            "api_key": "sk-env",
            "upstreams": [
                {
                    "name": "platform",
                    "kind": "kimi_platform",
                    "api_key": "sk-file",
                    "options": {"region": "cn"},
                }
            ],
        }
    )
    upstreams = _built(settings)
    assert list(upstreams) == ["platform", "platform_anthropic"]
    assert upstreams["platform"].auth_headers() == {"authorization": "Bearer sk-file"}
    assert upstreams["platform"].surface.base_url == "https://api.moonshot.cn/v1"


def test_the_key_comes_from_the_named_environment_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "upstreams:\n  - {name: vllm, kind: openai_compatible, base_url: http://h:1/v1,"
        " api_key_env: VLLM_TEST_KEY}\n"
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    assert "environment variable VLLM_TEST_KEY is not set" in str(caught.value)
    assert "upstreams.0" in str(caught.value)
    monkeypatch.setenv("VLLM_TEST_KEY", "sk-from-env")
    entry = load_settings(config).upstreams[0]
    assert entry.api_key is not None
    assert entry.api_key.get_secret_value() == "sk-from-env"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"upstreams": [{"name": "x", "kind": "kimi_plaform", "api_key": "k"}]},
            "upstreams entry 'x': unknown kind 'kimi_plaform' (known: kimi_platform, kimi_code,"
            " openai_compatible)",
        ),
        (
            {"upstreams": [{"name": "x", "kind": "kimi_platform"}]},
            "upstreams entry 'x' (kind kimi_platform): api_key_env (or api_key) is required",
        ),
        (
            {
                "upstreams": [
                    {
                        "name": "x",
                        "kind": "kimi_platform",
                        "api_key": "k",
                        "options": {"region": "eu"},
                    }
                ]
            },
            "upstreams entry 'x' (kind kimi_platform): options.region: Input should be 'global'"
            " or 'cn'",
        ),
        (
            {
                "api_key": "k",
                "upstreams": [
                    {
                        "name": "platform_anthropic",
                        "kind": "openai_compatible",
                        "base_url": "http://h:1/v1",
                    }
                ],
            },
            "upstreams entry 'platform_anthropic': the upstream name 'platform_anthropic' is"
            " already taken by another entry",
        ),
        (
            {"api_key": "k", "routes": {"m": {"upstream": "nowhere"}}},
            "routes entry 'm': upstream 'nowhere' is not configured (known: platform,"
            " platform_anthropic)",
        ),
    ],
)
def test_config_errors_name_the_entry_and_field(values: dict[str, Any], message: str) -> None:
    settings = Settings.model_validate(values)
    with pytest.raises(UpstreamConfigError) as caught:
        Router(settings, _built(settings))
    assert str(caught.value) == message


def test_duplicate_entry_names_are_refused_at_load() -> None:
    entry = {"name": "a", "kind": "kimi_platform", "api_key": "k"}
    with pytest.raises(ValueError, match=r"upstreams\[1\] \('a'\): name is used twice"):
        Settings.model_validate({"upstreams": [entry, entry]})

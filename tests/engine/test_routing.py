"""Routing: which upstream and model id serve a name, by dialect and by which keys exist."""

from __future__ import annotations

from typing import Any, cast

import aiohttp
import pytest

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import DialectName
from kimi_gateway.core.upstream import Upstream
from kimi_gateway.engine.build import quirk_policy
from kimi_gateway.engine.routing import Router, claude_family
from kimi_gateway.settings import Settings
from kimi_gateway.upstreams.config import BuildContext
from kimi_gateway.upstreams.http import Timeouts, UpstreamHttp
from kimi_gateway.upstreams.kimi.upstream import KimiUpstream
from kimi_gateway.upstreams.registry import build_upstreams as build_from_entries

BOTH = {"api_key": "sk-p", "code_api_key": "sk-kimi-c"}


def _kimi(upstream: Upstream) -> KimiUpstream:
    assert isinstance(upstream, KimiUpstream)  # every entry here is a Kimi surface
    return upstream


def build_upstreams(settings: Settings) -> dict[str, KimiUpstream]:
    """The upstreams of ``settings`` (no call is made, so no HTTP session is needed)."""
    http = UpstreamHttp(cast(aiohttp.ClientSession, None), Timeouts())
    built = build_from_entries(
        settings.upstream_entries(), BuildContext(http, quirk_policy(settings))
    )
    return {name: _kimi(upstream) for name, upstream in built.items()}


def _router(**values: Any) -> Router:
    settings = Settings(**values)
    return Router(settings, build_upstreams(settings))


def _where(router: Router, name: str, dialect: DialectName) -> tuple[str, str]:
    target = router.resolve(name, dialect)
    return target.upstream.name, target.model


@pytest.mark.parametrize(
    ("name", "dialect", "expected"),
    [
        ("kimi-k2.6", "openai_chat", ("platform", "kimi-k2.6")),
        ("kimi-k2.6", "anthropic_messages", ("platform_anthropic", "kimi-k2.6")),
        ("kimi-k3[1m]", "anthropic_messages", ("platform_anthropic", "kimi-k3[1m]")),
        ("kimi-for-coding", "openai_chat", ("code_openai", "kimi-for-coding")),
        ("kimi-for-coding", "anthropic_messages", ("code_anthropic", "kimi-for-coding")),
        ("k3", "anthropic_messages", ("code_anthropic", "k3")),
        ("claude-opus-4-1-20250805", "anthropic_messages", ("platform_anthropic", "kimi-k3")),
        ("Claude-Sonnet-4.5", "openai_chat", ("platform", "kimi-k2.6")),
        ("claude-3-haiku-20240307", "anthropic_messages", ("platform_anthropic", "kimi-k2.5")),
        ("some-new-model", "openai_chat", ("platform", "some-new-model")),
    ],
)
def test_default_routes_with_both_products(
    name: str, dialect: DialectName, expected: tuple[str, str]
) -> None:
    assert _where(_router(**BOTH), name, dialect) == expected


def test_only_kimi_code_sends_everything_there() -> None:
    router = _router(code_api_key="sk-kimi-c")
    assert _where(router, "claude-sonnet-4", "anthropic_messages") == (
        "code_anthropic",
        "kimi-for-coding",
    )
    assert _where(router, "claude-opus-4", "openai_chat") == ("code_openai", "kimi-for-coding")
    assert _where(router, "kimi-k2.6", "openai_chat") == ("code_openai", "kimi-k2.6")


def test_only_the_platform_keeps_kimi_code_names_there() -> None:
    router = _router(api_key="sk-p")
    assert _where(router, "kimi-for-coding", "openai_chat") == ("platform", "kimi-for-coding")


def test_translate_setting_and_configured_routes() -> None:
    router = _router(
        **BOTH,
        anthropic_route="translate",
        claude_models={"sonnet": "kimi-k2.7-code"},
        routes={
            "fast": {"model": "kimi-k2.7-code-highspeed"},
            "coder": {"upstream": "code_anthropic", "model": "kimi-for-coding"},
            "kimi-k2.6": {"upstream": "code_openai"},
        },
    )
    assert _where(router, "claude-sonnet-4", "anthropic_messages") == ("platform", "kimi-k2.7-code")
    assert _where(router, "fast", "anthropic_messages") == ("platform", "kimi-k2.7-code-highspeed")
    assert _where(router, "coder", "openai_chat") == ("code_anthropic", "kimi-for-coding")
    assert _where(router, "kimi-k2.6", "openai_chat") == ("code_openai", "kimi-k2.6")
    assert router.advertised() == ["fast", "coder", "kimi-k2.6"]


def test_route_to_an_upstream_without_a_key_is_a_clear_error() -> None:
    router = _router(api_key="sk-p", routes={"coder": {"upstream": "code_openai"}})
    with pytest.raises(GatewayError) as caught:
        router.resolve("coder", "openai_chat")
    assert (caught.value.kind, caught.value.message) == (
        "not_found",
        "model 'coder' is routed to upstream 'code_openai', but no key is configured for "
        "Kimi Code (KIMI_CODE_API_KEY)",
    )


def test_upstream_urls_by_region_and_overrides() -> None:
    cn = build_upstreams(Settings.model_validate({"api_key": "sk-p", "region": "cn"}))
    assert cn["platform"].surface.url == "https://api.moonshot.cn/v1/chat/completions"
    assert cn["platform_anthropic"].surface.url == "https://api.moonshot.cn/anthropic/v1/messages"
    custom = build_upstreams(
        Settings.model_validate(
            {**BOTH, "base_url": "http://h:1/v1", "code_base_url": "http://h:1/coding/v1"}
        )
    )
    assert {name: up.surface.url for name, up in custom.items()} == {
        "platform": "http://h:1/v1/chat/completions",
        "platform_anthropic": "http://h:1/anthropic/v1/messages",
        "code_openai": "http://h:1/coding/v1/chat/completions",
        "code_anthropic": "http://h:1/coding/v1/messages",
    }
    assert custom["code_openai"].root == "http://h:1/coding/v1"
    assert custom["platform"].forward_user_agent is False
    assert custom["code_anthropic"].forward_user_agent is True
    assert custom["code_anthropic"].auth_headers() == {"x-api-key": "sk-kimi-c"}
    assert "sk-kimi-c" not in repr(custom["code_anthropic"])


@pytest.mark.parametrize(
    ("name", "family"),
    [("claude-opus-4", "opus"), ("SONNET", "sonnet"), ("x-haiku-3", "haiku"), ("kimi", None)],
)
def test_claude_family(name: str, family: str | None) -> None:
    assert claude_family(name) == family

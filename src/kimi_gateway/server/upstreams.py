"""The upstreams this gateway can reach: a Kimi surface, its key and dialect, from settings.

An upstream exists only when its product has a key (``api_key`` for the Open Platform's two
faces, ``code_api_key`` for Kimi Code's two). Base URLs follow the region or the ``*_base_url``
overrides (kimi-api.md §1). The key lives here as a SecretStr and is only ever written into
the outgoing request's auth header (never logged, never rendered: issue 4 item 4).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from kimi_gateway.server.dialects import ANTHROPIC, OPENAI, Dialect
from kimi_gateway.settings import Settings, UpstreamName
from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    KIMI_CODE_OPENAI,
    PLATFORM_ANTHROPIC,
    PLATFORM_CN,
    PLATFORM_CN_ANTHROPIC,
    PLATFORM_GLOBAL,
    KimiSurface,
)
from kimi_gateway.upstreams.kimi.profiles import Product


@dataclass(frozen=True, slots=True)
class Upstream:
    name: UpstreamName
    surface: KimiSurface
    dialect: Dialect
    key: SecretStr
    root: str  # the base that ``/models``, ``/files``, ``/tokenizers/…`` hang off (…/v1)
    forward_user_agent: bool  # Kimi Code gates on the real client's User-Agent (§1, §13.1)

    @property
    def product(self) -> Product:
        return self.surface.product

    def auth_headers(self) -> dict[str, str]:
        return {self.surface.auth_header_name: self.surface.auth_header_value(self.secret())}

    def secret(self) -> str:
        return self.key.get_secret_value()


def _v1(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def _root_of(base: str) -> str:
    base = base.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def build_upstreams(settings: Settings) -> dict[UpstreamName, Upstream]:
    """Every upstream that has a key, by name."""
    upstreams: dict[UpstreamName, Upstream] = {}
    if settings.api_key is not None:
        cn = settings.region == "cn"
        platform = PLATFORM_CN if cn else PLATFORM_GLOBAL
        anthropic = PLATFORM_CN_ANTHROPIC if cn else PLATFORM_ANTHROPIC
        if settings.base_url:
            platform = platform.with_base_url(_v1(settings.base_url))
            anthropic = anthropic.with_base_url(_root_of(settings.base_url) + "/anthropic")
        if settings.anthropic_base_url:
            anthropic = anthropic.with_base_url(settings.anthropic_base_url)
        root = platform.base_url
        upstreams["platform"] = Upstream(
            "platform", platform, OPENAI, settings.api_key, root, forward_user_agent=False
        )
        upstreams["platform_anthropic"] = Upstream(
            "platform_anthropic", anthropic, ANTHROPIC, settings.api_key, root, False
        )
    if settings.code_api_key is not None:
        code_anthropic, code_openai = KIMI_CODE_ANTHROPIC, KIMI_CODE_OPENAI
        if settings.code_base_url:
            code_anthropic = code_anthropic.with_base_url(settings.code_base_url)
            code_openai = code_openai.with_base_url(_v1(settings.code_base_url))
        root = code_openai.base_url
        upstreams["code_openai"] = Upstream(
            "code_openai", code_openai, OPENAI, settings.code_api_key, root, True
        )
        upstreams["code_anthropic"] = Upstream(
            "code_anthropic", code_anthropic, ANTHROPIC, settings.code_api_key, root, True
        )
    return upstreams

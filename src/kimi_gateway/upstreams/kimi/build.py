"""The ``kimi_platform`` and ``kimi_code`` upstream kinds: one config entry, two faces.

``kimi_platform`` named N gives ``N`` (the OpenAI face) and ``N_anthropic`` (its Anthropic route,
docs/kimi.md §14); ``kimi_code`` named N gives ``N_openai`` and ``N_anthropic`` (§13.2). So the
entries that KIMI_API_KEY and KIMI_CODE_API_KEY make (``platform``, ``code``) keep today's names
``platform``, ``platform_anthropic``, ``code_openai``, ``code_anthropic``. Base URLs follow the
region or the entry's ``base_url`` (§1).
"""

from __future__ import annotations

from typing import Literal

from kimi_gateway.core.upstream import Upstream
from kimi_gateway.settings import UpstreamConfig
from kimi_gateway.upstreams.config import BuildContext, Options, UpstreamConfigError, parse_options
from kimi_gateway.upstreams.config import where as where_of
from kimi_gateway.upstreams.kimi.adapter import (
    KIMI_CODE_ANTHROPIC,
    KIMI_CODE_OPENAI,
    PLATFORM_ANTHROPIC,
    PLATFORM_CN,
    PLATFORM_CN_ANTHROPIC,
    PLATFORM_GLOBAL,
    KimiSurface,
)
from kimi_gateway.upstreams.kimi.upstream import Catalog, KimiUpstream


class PlatformOptions(Options):
    region: Literal["global", "cn"] = "global"
    anthropic_base_url: str | None = None


class CodeOptions(Options):
    pass


def v1(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def _root_of(base: str) -> str:
    base = base.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def _faces(
    entry: UpstreamConfig,
    ctx: BuildContext,
    faces: list[tuple[str, KimiSurface]],
    estimate: KimiSurface | None,
) -> list[Upstream]:
    key = entry.api_key
    if key is None:
        raise UpstreamConfigError(f"{where_of(entry)}: api_key_env (or api_key) is required")
    root = next(surface for _, surface in faces if surface.dialect == "openai_chat").base_url
    catalog = Catalog()
    return [
        KimiUpstream(
            name,
            surface,
            key,
            root=root,
            http=ctx.http,
            policy=ctx.policy,
            estimate=estimate,
            models=entry.models,
            kind=entry.kind,
            catalog=catalog,
        )
        for name, surface in faces
    ]


def build_platform(entry: UpstreamConfig, ctx: BuildContext) -> list[Upstream]:
    options = parse_options(entry, PlatformOptions)
    cn = options.region == "cn"
    openai = PLATFORM_CN if cn else PLATFORM_GLOBAL
    anthropic = PLATFORM_CN_ANTHROPIC if cn else PLATFORM_ANTHROPIC
    if entry.base_url:
        openai = openai.with_base_url(v1(entry.base_url))
        anthropic = anthropic.with_base_url(_root_of(entry.base_url) + "/anthropic")
    if options.anthropic_base_url:
        anthropic = anthropic.with_base_url(options.anthropic_base_url)
    faces = [(entry.name, openai), (f"{entry.name}_anthropic", anthropic)]
    return _faces(entry, ctx, faces, estimate=openai)


def build_code(entry: UpstreamConfig, ctx: BuildContext) -> list[Upstream]:
    parse_options(entry, CodeOptions)
    anthropic, openai = KIMI_CODE_ANTHROPIC, KIMI_CODE_OPENAI
    if entry.base_url:
        anthropic = anthropic.with_base_url(entry.base_url)
        openai = openai.with_base_url(v1(entry.base_url))
    faces = [(f"{entry.name}_openai", openai), (f"{entry.name}_anthropic", anthropic)]
    return _faces(entry, ctx, faces, estimate=None)

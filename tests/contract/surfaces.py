"""The emulator's Kimi surfaces the contract cases run against, and the gateway settings that
route each case's model to its surface (split from pipeline.py, which runs the cases)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.settings import QuirkSettings, RouteConfig, Settings, UpstreamConfig
from kimi_gateway.settings_reliability import (
    BreakerSettings,
    ReasoningMemory,
    ReliabilitySettings,
    RetrySettings,
)
from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    PLATFORM_ANTHROPIC,
    PLATFORM_GLOBAL,
    KimiSurface,
)


@dataclass(frozen=True)
class Upstream:
    """One Kimi surface of the emulator, with the model the cases use there."""

    name: str  # the dialect: "openai" | "anthropic"
    surface: KimiSurface
    prefix: str  # where the surface's base URL sits on the emulator
    model: str
    reported_model: str  # what the surface names in its replies
    key: str

    @property
    def path(self) -> str:
        return self.prefix + self.surface.path

    def on(self, server: EmulatorServer) -> KimiSurface:
        return self.surface.with_base_url(server.url + self.prefix)


OPENAI_UPSTREAM = Upstream(
    "openai", PLATFORM_GLOBAL, "/v1", "kimi-k2.6", "kimi-k2.6", "sk-test-contract"
)
ANTHROPIC_UPSTREAM = Upstream(
    "anthropic",
    KIMI_CODE_ANTHROPIC,
    "/coding",
    "kimi-for-coding",
    "kimi-for-coding",  # §13.1: Kimi Code reports this name whatever known name was sent
    "sk-kimi-contract",
)
PLATFORM_ANTHROPIC_UPSTREAM = Upstream(
    "anthropic", PLATFORM_ANTHROPIC, "/anthropic", "kimi-k2.6", "kimi-k2.6", "sk-test-contract"
)
UPSTREAMS: Mapping[str, Upstream] = {"openai": OPENAI_UPSTREAM, "anthropic": ANTHROPIC_UPSTREAM}


def settings_for(server: EmulatorServer, upstream: Upstream) -> Settings:
    """Settings whose routes send ``upstream.model`` to ``upstream``'s face on ``server``."""
    base = server.url + upstream.prefix
    key = SecretStr(upstream.key)
    if upstream.surface.product == "kimi_code":
        entry = UpstreamConfig(name="code", kind="kimi_code", base_url=base, api_key=key)
        face = "code_" + ("openai" if upstream.surface.dialect == "openai_chat" else "anthropic")
    else:
        entry = UpstreamConfig(
            name="platform",
            kind="kimi_platform",
            base_url=server.url + "/v1",
            api_key=key,
            options={"anthropic_base_url": server.url + "/anthropic"},
        )
        face = "platform" + ("" if upstream.surface.dialect == "openai_chat" else "_anthropic")
    # The contract is translation: one upstream call per request, whatever Kimi answers (the
    # scripted errors must reach the client as they are), so no retries and no breaker state
    # carried from one case to the next; tests/reliability covers those.
    off = ReliabilitySettings(
        retry=RetrySettings(enabled=False), breaker=BreakerSettings(enabled=False)
    )
    return Settings(
        upstreams=(entry,),
        routes={upstream.model: RouteConfig(upstream=face)},
        upstream_stream="match",
        access_log="off",
        reliability=off,
        # Nor the reasoning memory's own tool-call ids (engine/reasoning_store.py): the cases
        # pin the ids each dialect maps; tests/e2e/test_reasoning_memory.py covers the memory.
        quirks=QuirkSettings(remember_reasoning=ReasoningMemory(enabled=False)),
    )

"""Emulator mode: with no Kimi key configured, the gateway runs against the built-in emulator.

The lifespan starts an :class:`EmulatorServer` in-process (a thread, 127.0.0.1, a free port)
and points every upstream at it with keys the emulator is told to accept. Nothing here reaches
the real Kimi. The banner and the ``x-kimi-gateway-upstream: emulator`` header on every reply
say so (issue 4 item 3).
"""

from __future__ import annotations

from pydantic import SecretStr

from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.settings import Settings

# Keys of the in-process emulator only; they open nothing anywhere else. Their forms follow
# docs/kimi.md §1: Kimi Code keys start `sk-kimi-`, platform keys are other `sk-` keys.
EMULATOR_PLATFORM_KEY = "sk-emulator-platform-key"
EMULATOR_CODE_KEY = "sk-kimi-emulator-code-key"


def start_emulator() -> EmulatorServer:
    """An emulator accepting exactly the two keys above (blocking until it listens)."""
    config = EmulatorConfig(
        platform_keys=(EMULATOR_PLATFORM_KEY,), kimi_code_keys=(EMULATOR_CODE_KEY,)
    )
    return EmulatorServer(config).start()


def point_at_emulator(settings: Settings, emulator: EmulatorServer) -> Settings:
    """The settings with every upstream (both products, both faces) on the emulator."""
    return settings.model_copy(
        update={
            "api_key": SecretStr(EMULATOR_PLATFORM_KEY),
            "code_api_key": SecretStr(EMULATOR_CODE_KEY),
            "base_url": emulator.url + "/v1",
            "anthropic_base_url": emulator.url + "/anthropic",
            "code_base_url": emulator.url + "/coding",
        }
    )

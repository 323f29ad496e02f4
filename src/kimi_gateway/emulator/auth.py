"""Who may call: API-key checks per product and Kimi Code's User-Agent gate (docs/kimi.md §1).

No key → 401 `incorrect_api_key_error` "Incorrect API key provided" ([3M] HALRO, no key sent).
A bad key, or a key of the other product → 401 `invalid_authentication_error` (§1: keys are not
interchangeable; §13.4 gives Kimi Code's own text). The key may come as `Authorization: Bearer`
or `x-api-key` (the Anthropic faces, §13.3). Each function raises EmulatorError on refusal.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from kimi_gateway.emulator import errors
from kimi_gateway.emulator.config import EmulatorConfig

KIMI_CODE_KEY_PREFIX = "sk-kimi-"


def presented_key(request: Request) -> str | None:
    """The key sent, or None when there is none (an empty Bearer counts as none)."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return header.strip() or None
        return value.strip() or None
    key = request.headers.get("x-api-key")
    return key.strip() or None if key is not None else None


def is_platform_key(config: EmulatorConfig, key: str) -> bool:
    if config.platform_keys:
        return key in config.platform_keys
    return key.startswith("sk-") and not key.startswith(KIMI_CODE_KEY_PREFIX)


def is_kimi_code_key(config: EmulatorConfig, key: str) -> bool:
    if config.kimi_code_keys:
        return key in config.kimi_code_keys
    return key.startswith(KIMI_CODE_KEY_PREFIX) and len(key) > len(KIMI_CODE_KEY_PREFIX)


def authenticate_platform(request: Request, config: EmulatorConfig) -> None:
    key = presented_key(request)
    if key is None:
        raise errors.incorrect_api_key()
    if not is_platform_key(config, key):
        raise errors.invalid_authentication()


def authenticate_kimi_code(request: Request, config: EmulatorConfig) -> None:
    """Kimi Code: its own keys, then (when configured) the coding-agent User-Agent gate."""
    key = presented_key(request)
    if key is None:
        raise errors.incorrect_api_key()
    if not is_kimi_code_key(config, key):
        raise errors.invalid_authentication(errors.KIMI_CODE_INVALID_KEY_MESSAGE)
    if config.require_coding_agent_ua:
        agent = request.headers.get("user-agent", "")
        if not any(agent.startswith(p) for p in config.coding_agent_user_agents):
            raise errors.access_terminated()


def platform_authenticator(config: EmulatorConfig) -> Callable[[Request], None]:
    """The `authenticate` callable handed to files.py's routes."""

    def authenticate(request: Request) -> None:
        authenticate_platform(request, config)

    return authenticate

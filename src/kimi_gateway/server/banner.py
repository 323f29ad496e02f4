"""What the gateway says when it starts, and when it refuses to.

Loud about the two things a newcomer must not miss: whether replies come from the offline
emulator rather than Kimi, and whether anyone on the network could use the gateway (auth is
optional only on a loopback address; elsewhere the gateway refuses to start without keys).
"""

from __future__ import annotations

from kimi_gateway import __version__
from kimi_gateway.server.auth import is_loopback
from kimi_gateway.server.runtime import Runtime
from kimi_gateway.server.workers import warning

__all__ = ["banner", "is_loopback", "refusal"]


def refusal(host: str, keys_configured: bool) -> str | None:
    """Why the gateway must not start on ``host``, or None: a public address with no usable key
    (no one could use it). Whether requests need a key is a separate rule (server/auth.py
    ``auth_required``): on a public address they always do."""
    if keys_configured or is_loopback(host):
        return None
    return (
        f"refusing to listen on {host} without gateway keys: anyone who can reach it could spend "
        "your Kimi credit. Create a key (`kimi-gateway keys create NAME`), set "
        "KIMI_GATEWAY_MASTER_KEY, or listen on 127.0.0.1."
    )


def banner(runtime: Runtime) -> str:
    settings = runtime.settings
    base = f"http://{settings.host}:{settings.port}"
    lines = [f"kimi-gateway {__version__} on {base}"]
    if runtime.emulated:
        rule = "!" * 78
        lines += [
            rule,
            "!! NO KIMI KEY CONFIGURED: replies come from the built-in OFFLINE EMULATOR,",
            "!! not from Kimi. Set KIMI_API_KEY (Open Platform) or KIMI_CODE_API_KEY (Kimi Code).",
            "!! Every reply carries the header  x-kimi-gateway-upstream: emulator",
            rule,
        ]
    lines.append("  upstreams: " + ", ".join(sorted(runtime.upstreams)))
    if runtime.keys.required:
        lines.append("  auth: required (gateway keys: Authorization: Bearer KEY or x-api-key)")
    else:
        lines.append(
            "  auth: OPTIONAL: no gateway keys configured, so any caller is accepted (allowed"
            " only on a loopback address; `kimi-gateway keys create NAME` to require keys)"
        )
    if runtime.fds is not None:
        lines.append("  " + runtime.fds.describe())
    shared = warning(settings)  # serve --workers N: what each worker keeps to itself
    if shared is not None:
        lines.append(shared)
    lines.append(f"  OpenAI clients: base URL {base}/v1   Anthropic clients: base URL {base}")
    return "\n".join(lines)

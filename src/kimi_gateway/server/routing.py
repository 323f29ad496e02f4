"""Which Kimi surface and which upstream model id serve a model name a client asked for.

Resolution, first match wins:
1. an exact entry in ``routes`` (config): its ``upstream`` and ``model`` (each may be omitted);
2. a Claude model family — any name containing ``opus``, ``sonnet`` or ``haiku``, any version —
   maps to ``claude_models`` (defaults below), so Claude Code needs only a base URL and a key;
3. any other name goes unchanged to the default upstream for that model.
The default upstream: Kimi Code for Kimi Code model names (``kimi-for-coding``, ``k3`` …) when a
Kimi Code key exists, else the Open Platform; the client's own dialect when the product has a
face for it (kimi-api.md §16.2: prefer Kimi's native Anthropic route for Anthropic clients;
``anthropic_route: translate`` sends them to the OpenAI face instead).

What does not belong here: upstream URLs and keys (server/upstreams.py), per-model Kimi rules
(upstreams/kimi/profiles.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.server.dialects import DialectName
from kimi_gateway.server.upstreams import Upstream
from kimi_gateway.settings import Settings, UpstreamName
from kimi_gateway.upstreams.kimi.profiles import profile_for

CLAUDE_FAMILIES = ("opus", "sonnet", "haiku")
# Claude families → Kimi models when the Open Platform has a key: the strongest model for opus
# (kimi-k3, §4.1 [O]), the default k2.6 for sonnet, k2.5 for the small fast haiku slot.
PLATFORM_CLAUDE_DEFAULTS = {"opus": "kimi-k3", "sonnet": "kimi-k2.6", "haiku": "kimi-k2.5"}
# With only a Kimi Code key: its documented model name (§13.1 [O] HC).
KIMI_CODE_CLAUDE_DEFAULT = "kimi-for-coding"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes."""

    upstream: Upstream
    model: str  # the upstream model id


class Router:
    def __init__(self, settings: Settings, upstreams: Mapping[UpstreamName, Upstream]) -> None:
        self._routes = settings.routes
        self._upstreams = upstreams
        self._anthropic_native = settings.anthropic_route == "native"
        has_platform = "platform" in upstreams
        self._claude = {
            family: getattr(settings.claude_models, family)
            or (PLATFORM_CLAUDE_DEFAULTS[family] if has_platform else KIMI_CODE_CLAUDE_DEFAULT)
            for family in CLAUDE_FAMILIES
        }

    def resolve(self, name: str, dialect: DialectName) -> Target:
        """The target for ``name`` asked by a client of ``dialect``; GatewayError if none."""
        route = self._routes.get(name)
        if route is not None:
            model = route.model or name
            if route.upstream is not None:
                return Target(self._configured(route.upstream, name), model)
            return Target(self._default(model, dialect), model)
        family = claude_family(name)
        model = self._claude[family] if family is not None else name
        return Target(self._default(model, dialect), model)

    def advertised(self) -> list[str]:
        """Model names this gateway offers besides what the upstreams list: the routes."""
        return list(self._routes)

    def _default(self, model: str, dialect: DialectName) -> Upstream:
        code = profile_for(model).product == "kimi_code"
        if code and "code_openai" not in self._upstreams:
            code = "platform" not in self._upstreams
        if not code and "platform" not in self._upstreams:
            code = True
        if code:
            return self._configured("code_anthropic" if dialect == "anthropic" else "code_openai")
        if dialect == "anthropic" and self._anthropic_native:
            return self._configured("platform_anthropic")
        return self._configured("platform")

    def _configured(self, name: UpstreamName, model: str | None = None) -> Upstream:
        upstream = self._upstreams.get(name)
        if upstream is None:
            product = (
                "Kimi Code (KIMI_CODE_API_KEY)"
                if name.startswith("code")
                else ("the Open Platform (KIMI_API_KEY)")
            )
            what = f"model {model!r} is routed to" if model else "this request needs"
            raise GatewayError(
                "not_found", f"{what} upstream {name!r}, but no key is configured for {product}"
            )
        return upstream


def claude_family(name: str) -> str | None:
    lowered = name.lower()
    for family in CLAUDE_FAMILIES:
        if family in lowered:
            return family
    return None

"""Which upstream and which upstream model id serve a model name a client asked for.

Resolution, first match wins:
1. an exact entry in ``routes`` (config): its ``upstream`` (any upstream by name) and ``model``
   (each may be omitted);
2. a Claude model family — any name containing ``opus``, ``sonnet`` or ``haiku``, any version —
   maps to ``claude_models`` (defaults below), so Claude Code needs only a base URL and a key;
3. any other name goes unchanged to the default upstream for that model.
The default upstream: Kimi Code for Kimi Code model names (``kimi-for-coding``, ``k3`` …) when a
Kimi Code account exists, else the Open Platform; the first account of each product in config
order (the environment's first). Within a Kimi account, the face of the client's own dialect
when the product has one (docs/kimi.md §16.2: prefer Kimi's native Anthropic route for Anthropic
clients; ``anthropic_route: translate`` sends them to the OpenAI face instead). With no Kimi
account, the first upstream configured.

What does not belong here: upstream URLs and keys (upstreams/), per-model Kimi rules
(upstreams/kimi/profiles.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import DialectName
from kimi_gateway.core.records import record
from kimi_gateway.core.upstream import Upstream
from kimi_gateway.settings import LEGACY_CODE, LEGACY_PLATFORM, Settings
from kimi_gateway.upstreams.config import UpstreamConfigError
from kimi_gateway.upstreams.kimi.profiles import profile_for

CLAUDE_FAMILIES = ("opus", "sonnet", "haiku")
# Claude families → Kimi models when the Open Platform has a key: the strongest model for opus
# (kimi-k3, §4.1 [O]), the default k2.6 for sonnet, k2.5 for the small fast haiku slot.
PLATFORM_CLAUDE_DEFAULTS = {"opus": "kimi-k3", "sonnet": "kimi-k2.6", "haiku": "kimi-k2.5"}
# With only a Kimi Code key: its documented model name (§13.1 [O] HC).
KIMI_CODE_CLAUDE_DEFAULT = "kimi-for-coding"
# The face names the environment's accounts would have: a route to one of them without its key
# is answered with which key is missing (not a start-up error: the key may come later).
_LEGACY_FACES = {
    LEGACY_PLATFORM: "the Open Platform (KIMI_API_KEY)",
    f"{LEGACY_PLATFORM}_anthropic": "the Open Platform (KIMI_API_KEY)",
    f"{LEGACY_CODE}_openai": "Kimi Code (KIMI_CODE_API_KEY)",
    f"{LEGACY_CODE}_anthropic": "Kimi Code (KIMI_CODE_API_KEY)",
}


@record
class Target:
    """Where one request goes."""

    upstream: Upstream
    model: str  # the upstream model id


@record
class _Account:
    openai: str  # the name of its OpenAI face
    anthropic: str | None  # of its Anthropic face


# (name asked, routed upstream, its model id) → the upstream to open (a fallback chain, or it)
Chain = Callable[[str, Upstream, str], Upstream]


class Router:
    def __init__(
        self, settings: Settings, upstreams: Mapping[str, Upstream], chain: Chain | None = None
    ) -> None:
        self._chain = chain
        self._routes = settings.routes
        self._upstreams = upstreams
        self._anthropic_native = settings.anthropic_route == "native"
        self._platform: _Account | None = None
        self._code: _Account | None = None
        for entry in settings.upstream_entries():
            if entry.kind == "kimi_platform" and self._platform is None:
                self._platform = _Account(entry.name, f"{entry.name}_anthropic")
            elif entry.kind == "kimi_code" and self._code is None:
                self._code = _Account(f"{entry.name}_openai", f"{entry.name}_anthropic")
        self._fallback = next(iter(upstreams), None)
        has_platform = self._platform is not None or self._code is None
        self._claude = {
            family: getattr(settings.claude_models, family)
            or (PLATFORM_CLAUDE_DEFAULTS[family] if has_platform else KIMI_CODE_CLAUDE_DEFAULT)
            for family in CLAUDE_FAMILIES
        }
        self._check_routes()

    def _check_routes(self) -> None:
        for name, route in self._routes.items():
            up = route.upstream
            if up is not None and up not in self._upstreams and up not in _LEGACY_FACES:
                known = ", ".join(self._upstreams) or "none"
                raise UpstreamConfigError(
                    f"routes entry {name!r}: upstream {up!r} is not configured (known: {known})"
                )

    def resolve(self, name: str, dialect: DialectName) -> Target:
        """The target for ``name`` asked by a client of ``dialect``; GatewayError if none."""
        route = self._routes.get(name)
        if route is not None:
            model = route.model or name
            upstream = (
                self._named(route.upstream, name)
                if route.upstream is not None
                else self._default(model, dialect)
            )
            return self._target(name, upstream, upstream.upstream_model(model))
        family = claude_family(name)
        model = self._claude[family] if family is not None else name
        upstream = self._default(model, dialect)
        return self._target(name, upstream, upstream.upstream_model(model))

    def _target(self, name: str, upstream: Upstream, model: str) -> Target:
        if self._chain is not None:
            upstream = self._chain(name, upstream, model)
        return Target(upstream, model)

    def advertised(self) -> list[str]:
        """Model names this gateway offers besides what the upstreams list: the routes."""
        return list(self._routes)

    def _default(self, model: str, dialect: DialectName) -> Upstream:
        code = profile_for(model).product == "kimi_code"
        account = (self._code or self._platform) if code else (self._platform or self._code)
        if account is None:
            if self._fallback is None:
                raise GatewayError("not_found", "no upstream is configured")
            return self._upstreams[self._fallback]
        native = account is self._code or self._anthropic_native
        if dialect == "anthropic_messages" and native and account.anthropic is not None:
            return self._named(account.anthropic)
        return self._named(account.openai)

    def _named(self, name: str, model: str | None = None) -> Upstream:
        upstream = self._upstreams.get(name)
        if upstream is None:
            product = _LEGACY_FACES.get(name, "it")
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

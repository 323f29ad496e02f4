"""Build an :class:`~kimi_gateway.engine.engine.Engine` from settings: the one recipe both
faces use (the server's lifespan, the SDK's client), so they cannot drift apart."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import aiohttp

from kimi_gateway.core.upstream import Upstream
from kimi_gateway.engine.engine import Engine, EngineOptions
from kimi_gateway.engine.forced_tools import ReplyOptions
from kimi_gateway.engine.hooks import AfterHook, BeforeHook, authorize
from kimi_gateway.engine.limits import RequestLimits
from kimi_gateway.engine.reasoning_store import reasoning_store
from kimi_gateway.engine.reliable import wrap_upstreams
from kimi_gateway.engine.routing import Router
from kimi_gateway.settings import Settings
from kimi_gateway.upstreams.config import BuildContext
from kimi_gateway.upstreams.http import Timeouts, UpstreamHttp, new_session
from kimi_gateway.upstreams.kimi import QuirkPolicy, SamplingOverride
from kimi_gateway.upstreams.registry import build_upstreams

# The ``quirks:`` settings the engine applies to replies (engine/forced_tools.py).
_REPLY_FIELDS = tuple(f.name for f in dataclasses.fields(ReplyOptions))


def reply_options(settings: Settings) -> ReplyOptions:
    quirks = settings.quirks
    return ReplyOptions(**{name: getattr(quirks, name) for name in _REPLY_FIELDS})


def quirk_policy(settings: Settings) -> QuirkPolicy:
    """The settings' ``quirks:`` section, with KIMI_TEMPERATURE and KIMI_MAX_TOKENS."""
    quirks = settings.quirks
    fields = quirks.model_dump(exclude={"sampling_overrides", "remember_reasoning", *_REPLY_FIELDS})
    overrides = tuple(SamplingOverride(**o.model_dump()) for o in quirks.sampling_overrides)
    return QuirkPolicy(
        **fields,
        sampling_overrides=overrides,
        default_temperature=settings.temperature,
        default_max_tokens=settings.max_tokens,
    )


def timeouts(settings: Settings) -> Timeouts:
    return Timeouts(
        connect=settings.connect_timeout,
        first_byte=settings.first_byte_timeout,
        idle=settings.idle_timeout,
    )


def new_http_session(settings: Settings) -> aiohttp.ClientSession:
    return new_session(timeouts(settings), settings.server.upstream_pool_size)


def build_engine(
    settings: Settings,
    session: aiohttp.ClientSession,
    *,
    before: Sequence[BeforeHook] = (),
    after: Sequence[AfterHook] = (),
    clock: Callable[[], float] = time.perf_counter,
    trace: Callable[[Upstream], Upstream] | None = None,
) -> Engine:
    """The engine for ``settings`` over ``session`` (the caller owns and closes it).
    ``before`` hooks run after authorisation; ``after`` hooks get every Outcome; ``trace``
    wraps each base upstream (inside retries and fallbacks: one call per attempt)."""
    http = UpstreamHttp(session, timeouts(settings))
    accounts: dict[str, str] = {}
    built = build_upstreams(
        settings.upstream_entries(), BuildContext(http, quirk_policy(settings)), accounts
    )
    if trace is not None:
        built = {name: trace(upstream) for name, upstream in built.items()}
    upstreams, reliability = wrap_upstreams(settings, built, accounts, clock)
    reliability.closers.append(http.aclose)
    reasoning = reasoning_store(settings)
    if reasoning is not None:
        reliability.closers.append(reasoning.aclose)
    reliability.stale_resends = lambda: http.stale_resends
    requests = settings.security.requests
    options = EngineOptions(
        limits=RequestLimits(
            max_tools=settings.max_tools,
            max_messages=requests.max_messages,
            max_schema_nodes=requests.max_schema_nodes,
            max_schema_depth=requests.max_schema_depth,
        ),
        upstream_stream=settings.upstream_stream,
        upstream_stream_max_tokens=settings.upstream_stream_max_tokens,
        report_model=settings.report_model,
        models_cache_seconds=settings.models_cache_seconds,
        replies=reply_options(settings),
    )
    return Engine(
        upstreams,
        Router(settings, upstreams, reliability.chain),
        before=[authorize, *before],
        after=after,
        options=options,
        clock=clock,
        reliability=reliability,
        reasoning=reasoning,
    )

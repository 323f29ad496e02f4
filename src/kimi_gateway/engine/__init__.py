"""The engine: one generation, routed, admitted and run against an upstream, for every face
(server, SDK). See docs/architecture.md."""

from kimi_gateway.engine.build import build_engine, new_http_session, quirk_policy
from kimi_gateway.engine.engine import Engine, EngineOptions, Generation
from kimi_gateway.engine.hooks import AfterHook, BeforeHook, Dispatch, authorize
from kimi_gateway.engine.routing import Router, Target, claude_family

__all__ = [
    "AfterHook",
    "BeforeHook",
    "Dispatch",
    "Engine",
    "EngineOptions",
    "Generation",
    "Router",
    "Target",
    "authorize",
    "build_engine",
    "claude_family",
    "new_http_session",
    "quirk_policy",
]

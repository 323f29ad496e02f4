"""The Kimi upstream: model profiles, the quirk layer, and the surfaces it is reached on.

Public interface (everything else in this package is an implementation detail):
``profile_for`` / ``ModelProfile`` (profiles.py), ``QuirkPolicy`` / ``SamplingOverride``
(policy.py), ``apply_quirks`` (quirks.py), ``fix_openai_wire`` / ``fix_anthropic_wire``
(quirks_wire.py), ``KimiSurface`` and its values, ``UpstreamCall``, ``build_upstream_request``,
``diagnostics_header`` (adapter.py).
"""

from kimi_gateway.upstreams.kimi.adapter import (
    DIAGNOSTICS_HEADER,
    KIMI_CODE_ANTHROPIC,
    KIMI_CODE_OPENAI,
    PLATFORM_ANTHROPIC,
    PLATFORM_CN,
    PLATFORM_CN_ANTHROPIC,
    PLATFORM_GLOBAL,
    SURFACES,
    KimiSurface,
    UpstreamCall,
    build_upstream_request,
    diagnostics_header,
)
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy, ReasoningLookup, SamplingOverride
from kimi_gateway.upstreams.kimi.profiles import ModelProfile, known_models, profile_for
from kimi_gateway.upstreams.kimi.quirks import apply_quirks
from kimi_gateway.upstreams.kimi.quirks_wire import fix_anthropic_wire, fix_openai_wire

__all__ = [
    "DIAGNOSTICS_HEADER",
    "KIMI_CODE_ANTHROPIC",
    "KIMI_CODE_OPENAI",
    "PLATFORM_ANTHROPIC",
    "PLATFORM_CN",
    "PLATFORM_CN_ANTHROPIC",
    "PLATFORM_GLOBAL",
    "SURFACES",
    "KimiSurface",
    "ModelProfile",
    "QuirkPolicy",
    "ReasoningLookup",
    "SamplingOverride",
    "UpstreamCall",
    "apply_quirks",
    "build_upstream_request",
    "diagnostics_header",
    "fix_anthropic_wire",
    "fix_openai_wire",
    "known_models",
    "profile_for",
]

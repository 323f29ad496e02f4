"""Kimi's upstream surfaces and the one function that turns a canonical Request into the HTTP
call for one of them — as data; no HTTP client here (the server owns and injects it).

A :class:`KimiSurface` says where a product/dialect pair lives (docs/kimi.md §1, §13.2, §14):
base URL, path, which dialect it speaks, how the key is sent. :func:`build_upstream_request`
runs the quirk layer, the surface's dialect renderer and the wire fix-ups, and returns an
:class:`UpstreamCall` whose headers never hold the key: the server adds it under
``auth_header_name`` (:meth:`UpstreamCall.headers_with_key`). It never sets a User-Agent:
Kimi Code gates on the real client's (§1), which the server forwards and must not forge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Diagnostic, Request
from kimi_gateway.core.records import record
from kimi_gateway.dialects import anthropic_messages, openai_chat
from kimi_gateway.dialects.openai_chat.losses import request_losses
from kimi_gateway.upstreams.kimi.policy import (
    QuirkPolicy,
    ReasoningLookup,
    SignatureCheck,
    UpstreamDialect,
)
from kimi_gateway.upstreams.kimi.profiles import ModelProfile, Product
from kimi_gateway.upstreams.kimi.quirks import apply_quirks
from kimi_gateway.upstreams.kimi.quirks_wire import (
    fix_anthropic_wire,
    fix_openai_wire,
    message_fix,
)
from kimi_gateway.upstreams.kimi.schema_memo import SchemaMemo

ANTHROPIC_VERSION = "2023-06-01"  # §13.3 [3C]/[O-code] KOSONG-TS
DIAGNOSTICS_HEADER = "x-kimi-gateway-diagnostics"
_HEADER_BUDGET = 4000  # bytes; well under common 8 KiB header limits
_DETAIL_BUDGET = 200
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")  # what _token leaves unchanged


@dataclass(frozen=True, slots=True)
class KimiSurface:
    name: str
    product: Product
    dialect: UpstreamDialect
    base_url: str
    path: str  # appended to base_url
    auth: Literal["bearer", "x-api-key"]

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + self.path

    def with_base_url(self, base_url: str) -> KimiSurface:
        """The same surface at another base (KIMI_BASE_URL, the emulator). A trailing ``/v1``
        is dropped for the Anthropic faces, whose path already starts with it: the doubled
        ``/v1/v1/messages`` is the classic 404 (§13.2 [3M] HERMES; [O-code] KOSONG-TS)."""
        base = base_url.rstrip("/")
        if self.dialect == "anthropic_messages" and base.endswith("/v1"):
            base = base[: -len("/v1")]
        return replace(self, base_url=base)

    @property
    def auth_header_name(self) -> str:
        return "authorization" if self.auth == "bearer" else "x-api-key"

    def auth_header_value(self, key: str) -> str:
        return f"Bearer {key}" if self.auth == "bearer" else key


# §1 [O]: the Open Platform, OpenAI face, by region.
PLATFORM_GLOBAL = KimiSurface(
    "platform",
    "platform",
    "openai_chat",
    "https://api.moonshot.ai/v1",
    "/chat/completions",
    "bearer",
)
PLATFORM_CN = replace(PLATFORM_GLOBAL, name="platform-cn", base_url="https://api.moonshot.cn/v1")
# §1/§14 [O]/[3M] HALRO: the platform's Anthropic route; Bearer auth (Claude Code's AUTH_TOKEN).
PLATFORM_ANTHROPIC = KimiSurface(
    "platform-anthropic",
    "platform",
    "anthropic_messages",
    "https://api.moonshot.ai/anthropic",
    "/v1/messages",
    "bearer",
)
PLATFORM_CN_ANTHROPIC = replace(
    PLATFORM_ANTHROPIC, name="platform-cn-anthropic", base_url="https://api.moonshot.cn/anthropic"
)
# §1/§13.2 [O] HC: Kimi Code's two faces share one key and credits.
KIMI_CODE_ANTHROPIC = KimiSurface(
    "kimi-code-anthropic",
    "kimi_code",
    "anthropic_messages",
    "https://api.kimi.com/coding",
    "/v1/messages",
    "x-api-key",
)
KIMI_CODE_OPENAI = KimiSurface(
    "kimi-code-openai",
    "kimi_code",
    "openai_chat",
    "https://api.kimi.com/coding/v1",
    "/chat/completions",
    "bearer",
)

SURFACES: Mapping[str, KimiSurface] = {
    s.name: s
    for s in (
        PLATFORM_GLOBAL,
        PLATFORM_CN,
        PLATFORM_ANTHROPIC,
        PLATFORM_CN_ANTHROPIC,
        KIMI_CODE_ANTHROPIC,
        KIMI_CODE_OPENAI,
    )
}


@record
class UpstreamCall:
    """One HTTP request to Kimi, minus the key."""

    method: str
    url: str
    headers: Mapping[str, str]
    auth_header_name: str
    body: dict[str, Any]
    diagnostics: tuple[Diagnostic, ...] = ()
    auth_scheme: str = field(default="")  # "Bearer " for Bearer auth, "" for x-api-key
    enforce_stop: tuple[str, ...] = ()  # stop sequences Kimi was not sent: the gateway's job

    def headers_with_key(self, key: str) -> dict[str, str]:
        return {**self.headers, self.auth_header_name: self.auth_scheme + key}


def build_upstream_request(
    request: Request,
    surface: KimiSurface,
    profile: ModelProfile,
    policy: QuirkPolicy,
    *,
    reasoning_lookup: ReasoningLookup | None = None,
    signature_issued: SignatureCheck | None = None,
    schema_memo: SchemaMemo | None = None,
) -> UpstreamCall:
    """The call for ``surface``: quirks, the surface dialect's render_request, wire fix-ups."""
    fixed = apply_quirks(
        request,
        profile,
        policy,
        dialect=surface.dialect,
        reasoning_lookup=reasoning_lookup,
        signature_issued=signature_issued,
        schema_memo=schema_memo,
    )
    headers = {"content-type": "application/json"}
    diagnostics = fixed.diagnostics
    if surface.dialect == "openai_chat":
        # What the OpenAI wire cannot carry (e.g. a tool result's is_error) is reported, not lost.
        losses = request_losses(fixed)
        if losses and policy.strict:
            raise TranslationError(
                f"strict mode: the request would be changed: {losses[0].detail}",
                param=losses[0].code,
            )
        diagnostics += losses
        rendered = openai_chat.render_request(fixed, fix=message_fix(policy.empty_tool_result_text))
        body = fix_openai_wire(rendered, profile)
    else:
        body = fix_anthropic_wire(anthropic_messages.render_request(fixed), profile)
        headers["anthropic-version"] = ANTHROPIC_VERSION
    if fixed.stream:
        headers["accept"] = "text/event-stream"
    return UpstreamCall(
        method="POST",
        url=surface.url,
        headers=headers,
        auth_header_name=surface.auth_header_name,
        body=body,
        diagnostics=diagnostics,
        auth_scheme="Bearer " if surface.auth == "bearer" else "",
        enforce_stop=_enforced_stops(request, fixed, policy),
    )


def _enforced_stops(sent: Request, fixed: Request, policy: QuirkPolicy) -> tuple[str, ...]:
    """The client's stop sequences Kimi was not sent, which the gateway must watch for."""
    if policy.stop_overflow != "enforce":
        return ()
    return tuple(s for s in sent.stop if s not in fixed.stop)


def diagnostics_header(diagnostics: Iterable[Diagnostic]) -> str:
    """A compact ``x-kimi-gateway-diagnostics`` value: an RFC 8941 list of ``code;detail="…"``
    items, ASCII only, each detail cut to 200 characters, the whole under 4000 bytes (a final
    ``more;count=N`` says how many did not fit). Empty when there is nothing to report."""
    items: list[str] = []
    size = 0  # len(", ".join(items)), kept as we go
    unique = list(dict.fromkeys(diagnostics))
    for index, diag in enumerate(unique):
        item = f'{_token(diag.code)};detail="{_sf_string(diag.detail)}"'
        grown = size + (2 if items else 0) + len(item)
        if grown > _HEADER_BUDGET - 32:
            items.append(f"more;count={len(unique) - index}")
            break
        items.append(item)
        size = grown
    return ", ".join(items)


def _token(code: str) -> str:
    if _TOKEN.fullmatch(code):
        return code  # the usual case: already a valid token
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "_-.") else "_" for c in code)
    return cleaned if cleaned[:1].isalpha() else "d_" + cleaned


def _sf_string(text: str) -> str:
    short = text if len(text) <= _DETAIL_BUDGET else text[: _DETAIL_BUDGET - 3] + "..."
    if short.isascii() and short.isprintable():  # " " to "~" already: no per-character pass
        printable = short
    else:
        printable = "".join(c if " " <= c <= "~" else "?" for c in short)
    return printable.replace("\\", "\\\\").replace('"', '\\"')

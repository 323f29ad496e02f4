"""Posting raw and quirk-fixed requests to the Kimi emulator (a real server on 127.0.0.1).

The raw request is what a gateway without the quirk layer would send: the client's own body
when the client speaks the surface's dialect (a pass-through proxy), otherwise the surface
dialect's plain rendering of the parsed request. The fixed request is build_upstream_request's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from kimi_gateway.core.model import Request
from kimi_gateway.dialects import anthropic_messages, openai_chat
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.upstreams.kimi import (
    KimiSurface,
    QuirkPolicy,
    ReasoningLookup,
    UpstreamCall,
    build_upstream_request,
    profile_for,
)

Client = Literal["openai_chat", "anthropic_messages"]
_PREFIX = {
    "platform": "/v1",
    "platform-cn": "/v1",
    "platform-anthropic": "/anthropic",
    "platform-cn-anthropic": "/anthropic",
    "kimi-code-openai": "/coding/v1",
    "kimi-code-anthropic": "/coding",
}
PARSE = {
    "openai_chat": openai_chat.parse_request,
    "anthropic_messages": anthropic_messages.parse_request,
}
RENDER = {
    "openai_chat": openai_chat.render_request,
    "anthropic_messages": anthropic_messages.render_request,
}


def on_emulator(surface: KimiSurface, server: EmulatorServer) -> KimiSurface:
    return surface.with_base_url(server.url + _PREFIX[surface.name])


def key_for(surface: KimiSurface) -> str:
    return "sk-kimi-test" if surface.product == "kimi_code" else "sk-test"


@dataclass
class Exchange:
    """One client body sent raw and fixed to one surface of the emulator."""

    server: EmulatorServer
    surface: KimiSurface
    client: Client
    body: Mapping[str, Any]
    policy: QuirkPolicy = field(default_factory=QuirkPolicy)
    lookup: ReasoningLookup | None = None
    rendered_raw: bool = False  # raw = the plain rendering even when the dialects match

    @property
    def live(self) -> KimiSurface:
        return on_emulator(self.surface, self.server)

    def request(self) -> Request:
        return PARSE[self.client](self.body)

    def raw_body(self) -> dict[str, Any]:
        if self.client == self.surface.dialect and not self.rendered_raw:
            return dict(self.body)
        return RENDER[self.surface.dialect](self.request())

    def call(self) -> UpstreamCall:
        request = self.request()
        profile = profile_for(request.model, product=self.surface.product)
        return build_upstream_request(
            request, self.live, profile, self.policy, reasoning_lookup=self.lookup
        )

    def post_raw(self) -> httpx.Response:
        live = self.live
        headers = {"content-type": "application/json"}
        if live.dialect == "anthropic_messages":
            headers["anthropic-version"] = "2023-06-01"
        headers[live.auth_header_name] = live.auth_header_value(key_for(live))
        return httpx.post(live.url, headers=headers, json=self.raw_body(), timeout=10)

    def post_fixed(self) -> httpx.Response:
        call = self.call()
        headers = call.headers_with_key(key_for(self.surface))
        return httpx.post(call.url, headers=headers, json=call.body, timeout=10)


def error_message(response: httpx.Response) -> tuple[int, str]:
    """Status and Kimi's message, from either envelope (OpenAI or Anthropic shape)."""
    body = response.json()
    if not isinstance(body.get("error"), dict):
        return response.status_code, response.text
    return response.status_code, body["error"]["message"]

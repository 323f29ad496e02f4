"""A client pointed at a running kimi-gateway (``gateway_url=``) instead of the engine
in-process: the same OpenAI body is posted to the gateway's ``/v1/chat/completions`` and its SSE
reply is parsed by the openai_chat dialect into the same canonical batches, so results, streams,
the tool loop, files and conversations behave the same on both backends.

HTTP goes through the engine's own :class:`~kimi_gateway.upstreams.http.UpstreamHttp`, as the
in-process path's upstream calls do: the same pooled aiohttp session, the first-byte limit on
the response head and then the idle limit between body chunks (``after_head``), one resend on
a fresh connection when a pooled keep-alive one turns out closed, and transport failures named
the same way; errors are parsed in the gateway's OpenAI shape.

The in-process path runs the engine's after-hooks (ledger row, budget settlement) itself; here
the gateway runs them, for the gateway key the client sends, so the client records nothing and
``ledger=`` is refused with ``gateway_url`` (each call would otherwise be counted twice).
Token counts use the gateway's ``/v1/messages/count_tokens`` (the body rendered in the Anthropic
dialect, which is what that endpoint speaks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError
from kimi_gateway.core.model import Diagnostic
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.core.upstream import Batch
from kimi_gateway.dialects import anthropic_messages, openai_chat
from kimi_gateway.settings import Settings
from kimi_gateway.upstreams.http import Timeouts, UpstreamHttp, new_session, transport_error
from kimi_gateway.upstreams.kimi.profiles import profile_for

_WHERE = "kimi-gateway"


def gateway_root(url: str) -> str:
    """The gateway's root URL, whether given with or without ``/v1``."""
    return url.rstrip("/").removesuffix("/v1")


class _GatewaySource:
    def __init__(self, response: aiohttp.ClientResponse, idle: float) -> None:
        self._response = response
        self._idle = idle
        self.request_id = response.headers.get("x-kimi-request-id")
        self.upstream: str | None = None
        self.diagnostics: tuple[Diagnostic, ...] = ()

    async def batches(self) -> AsyncIterator[Batch]:
        decoder = SSEDecoder()
        parser = openai_chat.StreamParser()
        try:
            async for chunk in self._response.content.iter_any():
                batch = [e for sse in decoder.decode(chunk) for e in parser.feed(sse)]
                if batch:
                    yield batch
            batch = [e for sse in decoder.flush() for e in parser.feed(sse)]
            batch.extend(parser.close())
            if batch:
                yield batch
        except aiohttp.ClientError as exc:
            yield [StreamError(transport_error(exc, _WHERE, self._idle))]

    async def finish(self) -> None:
        self._response.release()

    async def close(self, error: str | None = None) -> None:
        if error is None:
            self._response.release()
        else:
            self._response.close()


class GatewayBackend:
    """A running gateway at ``url``, reached with ``api_key`` (a gateway key, if it needs one)."""

    def __init__(self, url: str, api_key: str | None, settings: Settings) -> None:
        self.root = gateway_root(url)
        self.settings = settings
        self._key = api_key
        self._http: UpstreamHttp | None = None

    @property
    def account(self) -> tuple[str, ...]:
        return self.root, self._key or ""

    @property
    def http(self) -> UpstreamHttp:
        if self._http is None:
            s = self.settings
            timeouts = Timeouts(s.connect_timeout, s.first_byte_timeout, s.idle_timeout)
            self._http = UpstreamHttp(new_session(timeouts), timeouts)
        return self._http

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self._key}"} if self._key else {}
        return {**headers, **(extra or {})}

    async def _send(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        response = await self.http.open(
            method, self.root + path, self._headers(headers), body, where=_WHERE
        )
        if response.status >= 300:
            raw = await response.read()
            response.release()
            raise openai_chat.parse_error(response.status, raw, response.headers)
        return response

    async def _json(self, method: str, path: str, body: Any) -> Any:
        data = None if body is None else orjson.dumps(body)
        headers = {} if body is None else {"content-type": "application/json"}
        response = await self._send(method, path, data, headers)
        try:
            return orjson.loads(await response.read())
        finally:
            response.release()

    async def open(self, body: Mapping[str, Any], deadline: float) -> _GatewaySource:
        wire = {**body, "stream": True, "stream_options": {"include_usage": True}}
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        response = await self._send("POST", "/v1/chat/completions", orjson.dumps(wire), headers)
        return _GatewaySource(response, self.settings.idle_timeout)

    async def count_tokens(self, body: Mapping[str, Any]) -> int:
        anthropic = anthropic_messages.render_request(openai_chat.parse_request(body))
        anthropic.pop("max_tokens", None)
        reply = await self._json("POST", "/v1/messages/count_tokens", anthropic)
        total = reply.get("input_tokens") if isinstance(reply, dict) else None
        if not isinstance(total, int):
            raise GatewayError("server", "the gateway's count_tokens reply had no input_tokens")
        return total

    async def model_ids(self) -> list[str]:
        reply = await self._json("GET", "/v1/models", None)
        data = reply.get("data") if isinstance(reply, dict) else None
        return [str(m["id"]) for m in data or [] if isinstance(m, dict) and "id" in m]

    def product_of(self, model: str) -> str | None:
        profile = profile_for(model)
        return profile.product if profile.known else None

    async def files_call(
        self, method: str, suffix: str, *, headers: Mapping[str, str], body: bytes | None
    ) -> bytes:
        response = await self._send(method, "/v1/files" + suffix, body, headers)
        try:
            return await response.read()
        finally:
            response.release()

    async def close(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            try:
                await http.aclose()
            finally:
                await http.session.close()

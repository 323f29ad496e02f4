"""Talking to a Kimi upstream over the injected httpx client: open the call within the
first-byte limit, turn its SSE body into canonical events, turn transport failures into
GatewayErrors, and explain the errors that need it.

Timeouts (settings): ``connect_timeout`` and ``idle_timeout`` (longest pause between chunks) are
httpx's connect/read timeouts; ``first_byte_timeout`` bounds the wait for the response head;
``total_timeout`` bounds the whole exchange (server/relay.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping

import httpx
import orjson

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import StreamError, StreamEvent
from kimi_gateway.core.sse import SSEDecoder
from kimi_gateway.server.dialects import StreamParser
from kimi_gateway.server.upstreams import Upstream
from kimi_gateway.upstreams.kimi import UpstreamCall

CODING_AGENT_HINT = (
    "Kimi Code serves only approved coding agents (Claude Code, Kimi Code CLI, Roo Code) and "
    "recognises them by User-Agent; this gateway forwards your client's own User-Agent "
    "unchanged and never impersonates one. For any other client use a Kimi Open Platform key "
    "(KIMI_API_KEY, https://platform.kimi.ai) instead of Kimi Code."
)
UPSTREAM_AUTH_HINT = (
    "Kimi refused the gateway's upstream key; check KIMI_API_KEY / KIMI_CODE_API_KEY (keys of "
    "the Open Platform, its regions and Kimi Code are not interchangeable)."
)


def transport_error(exc: Exception, upstream: Upstream, settings_timeout: float) -> GatewayError:
    """A GatewayError for an httpx failure; messages name the host, never headers or keys."""
    host = httpx.URL(upstream.surface.base_url).host
    if isinstance(exc, httpx.ConnectTimeout):
        return GatewayError("timeout", f"connecting to the Kimi upstream {host} timed out")
    if isinstance(exc, httpx.ReadTimeout):
        return GatewayError(
            "timeout", f"the Kimi upstream {host} sent nothing for {settings_timeout:g} s"
        )
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return GatewayError("timeout", f"the Kimi upstream {host} did not answer in time")
    if isinstance(exc, httpx.ConnectError):
        return GatewayError("unavailable", f"cannot connect to the Kimi upstream {host}")
    return GatewayError(
        "server", f"the connection to the Kimi upstream {host} failed: {type(exc).__name__}"
    )


async def open_call(
    client: httpx.AsyncClient,
    call: UpstreamCall,
    upstream: Upstream,
    *,
    user_agent: str | None,
    first_byte_timeout: float,
    idle_timeout: float,
) -> httpx.Response:
    """Send the call and return the response with its body unread (caller closes it)."""
    headers = call.headers_with_key(upstream.secret())
    if upstream.forward_user_agent and user_agent:
        headers["user-agent"] = user_agent  # §1: Kimi Code gates on the real client's UA
    request = client.build_request(
        call.method, call.url, headers=headers, content=orjson.dumps(call.body)
    )
    try:
        async with asyncio.timeout(first_byte_timeout):
            return await client.send(request, stream=True)
    except (httpx.HTTPError, TimeoutError) as exc:
        raise transport_error(exc, upstream, idle_timeout) from None


async def upstream_error(response: httpx.Response, upstream: Upstream) -> GatewayError:
    """The GatewayError for a non-2xx upstream reply, Kimi's message kept, hint added."""
    try:
        raw = await response.aread()
    except httpx.HTTPError:
        raw = b""
    finally:
        await response.aclose()
    error = upstream.dialect.parse_error(response.status_code, raw, response.headers)
    return explained(error, upstream)


def explained(error: GatewayError, upstream: Upstream) -> GatewayError:
    if error.hint is None:
        if error.kind == "permission" and upstream.product == "kimi_code":
            error.hint = CODING_AGENT_HINT
        elif error.kind == "authentication":
            error.hint = UPSTREAM_AUTH_HINT
    return error


async def stream_events(
    response: httpx.Response,
    parser: StreamParser,
    upstream: Upstream,
    idle_timeout: float,
) -> AsyncGenerator[StreamEvent, None]:
    """Canonical events of an upstream SSE body as they arrive; a broken or stalled body ends
    with StreamError (the parser's own close() reports a stream that stopped early)."""
    decoder = SSEDecoder()
    try:
        async for chunk in response.aiter_bytes():
            for sse in decoder.decode(chunk):
                for event in parser.feed(sse):
                    yield event
        for sse in decoder.flush():
            for event in parser.feed(sse):
                yield event
        for event in parser.close():
            yield event
    except httpx.HTTPError as exc:
        error = transport_error(exc, upstream, idle_timeout)
        yield StreamError(explained(error, upstream))
    finally:
        await response.aclose()


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}

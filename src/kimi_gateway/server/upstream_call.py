"""Talking to a Kimi upstream over the injected aiohttp session: open the call within the
first-byte limit, turn its SSE body into canonical events, turn transport failures into
GatewayErrors, and explain the errors that need it.

Timeouts (settings): ``connect_timeout`` bounds getting a connection (pool wait included) and
``idle_timeout`` (longest pause between chunks) is aiohttp's ``sock_read``, both set on the
session (server/runtime.py); ``first_byte_timeout`` bounds the wait for the response head;
``total_timeout`` bounds the whole exchange (server/relay.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from urllib.parse import urlsplit

import aiohttp
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
Response = aiohttp.ClientResponse


def transport_error(
    exc: BaseException, upstream: Upstream, settings_timeout: float
) -> GatewayError:
    """A GatewayError for a transport failure; messages name the host, never headers or keys."""
    host = urlsplit(upstream.surface.base_url).hostname
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return GatewayError("timeout", f"connecting to the Kimi upstream {host} timed out")
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return GatewayError(
            "timeout", f"the Kimi upstream {host} sent nothing for {settings_timeout:g} s"
        )
    if isinstance(exc, TimeoutError):
        return GatewayError("timeout", f"the Kimi upstream {host} did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return GatewayError("unavailable", f"cannot connect to the Kimi upstream {host}")
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return GatewayError("server", f"the Kimi upstream {host} broke off its response")
    return GatewayError(
        "server", f"the connection to the Kimi upstream {host} failed: {type(exc).__name__}"
    )


async def open_call(
    client: aiohttp.ClientSession,
    call: UpstreamCall,
    upstream: Upstream,
    *,
    user_agent: str | None,
    first_byte_timeout: float,
    idle_timeout: float,
) -> Response:
    """Send the call and return the response with its body unread (caller releases it)."""
    headers = call.headers_with_key(upstream.secret())
    if upstream.forward_user_agent and user_agent:
        headers["user-agent"] = user_agent  # §1: Kimi Code gates on the real client's UA
    try:
        async with asyncio.timeout(first_byte_timeout):
            return await client.request(
                call.method,
                call.url,
                headers=headers,
                data=orjson.dumps(call.body),
                allow_redirects=False,
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise transport_error(exc, upstream, idle_timeout) from None


async def upstream_error(response: Response, upstream: Upstream) -> GatewayError:
    """The GatewayError for a non-2xx upstream reply, Kimi's message kept, hint added."""
    try:
        raw = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        raw = b""
    finally:
        response.release()
    error = upstream.dialect.parse_error(response.status, raw, response.headers)
    return explained(error, upstream)


def explained(error: GatewayError, upstream: Upstream) -> GatewayError:
    if error.hint is None:
        if error.kind == "permission" and upstream.product == "kimi_code":
            error.hint = CODING_AGENT_HINT
        elif error.kind == "authentication":
            error.hint = UPSTREAM_AUTH_HINT
    return error


async def stream_events(
    response: Response,
    parser: StreamParser,
    upstream: Upstream,
    idle_timeout: float,
) -> AsyncGenerator[list[StreamEvent], None]:
    """Canonical events of an upstream SSE body as they arrive, one non-empty list per body
    read (what arrived together is sent on together: one write, not one per event); a broken
    or stalled body ends with StreamError (the parser's own close() reports a stream that
    stopped early). Releasing a response read to its end returns its connection to the pool;
    otherwise it is closed."""
    decoder = SSEDecoder()
    feed = parser.feed
    try:
        async for chunk in response.content.iter_any():
            batch = [event for sse in decoder.decode(chunk) for event in feed(sse)]
            if batch:
                yield batch
        batch = [event for sse in decoder.flush() for event in feed(sse)]
        batch.extend(parser.close())
        if batch:
            yield batch
    except aiohttp.ClientError as exc:
        error = transport_error(exc, upstream, idle_timeout)
        yield [StreamError(explained(error, upstream))]
    finally:
        response.release()

"""The one way to open an HTTP call to an upstream, and what its transport failures mean.

Every upstream kind sends through :class:`UpstreamHttp`: the injected pooled aiohttp session
(DESIGN.md §4.3), the first-byte limit around the response head, transport failures turned into
GatewayErrors whose messages name the host and never a header or key, and the upstream's own
request id read from the reply headers in one place (``core.http_headers``).

Timeouts (settings): ``connect_timeout`` bounds getting a connection (pool wait included) and
``idle_timeout`` (longest pause between chunks) is aiohttp's ``sock_read``, both set on the
session (:func:`new_session`); ``first_byte_timeout`` bounds the wait for the response head;
``total_timeout`` bounds the whole exchange (the engine's deadline).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

from kimi_gateway import __version__
from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.http_headers import upstream_request_id

Response = aiohttp.ClientResponse
USER_AGENT = f"kimi-gateway/{__version__}"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 10.0
    first_byte: float = 300.0
    idle: float = 300.0


def new_session(timeouts: Timeouts) -> aiohttp.ClientSession:
    """One pooled session for every upstream call. aiohttp over httpx by measurement: the bare
    relay floor costs 0.20 ms CPU per request with it, 0.58 ms with httpx (bench/RESULTS.md).
    ``sock_read`` is the longest wait for any chunk (the idle limit); ``connect`` covers
    waiting for a pooled connection and opening one."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1000),
        timeout=aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.connect,
            sock_connect=timeouts.connect,
            sock_read=timeouts.idle,
        ),
        headers={"user-agent": USER_AGENT},
        cookie_jar=aiohttp.DummyCookieJar(),  # a relay keeps no cookies between callers
        trust_env=False,  # the upstream is chosen by our settings, not by proxy env variables
    )


def transport_error(exc: BaseException, where: str, idle_timeout: float) -> GatewayError:
    """A GatewayError for a transport failure. ``where`` names the upstream by kind and host
    (``Kimi upstream api.moonshot.ai``); messages never name headers or keys. The gateway itself
    did not fail, so the status is a gateway's: 502 when the upstream could not be reached or
    broke off, 504 when it was too slow."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return GatewayError("timeout", f"connecting to the {where} timed out")
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return GatewayError("timeout", f"the {where} sent nothing for {idle_timeout:g} s")
    if isinstance(exc, TimeoutError):
        return GatewayError("timeout", f"the {where} did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return GatewayError("unavailable", f"cannot connect to the {where}", status=502)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return GatewayError("server", f"the {where} broke off its response", status=502)
    return GatewayError(
        "server", f"the connection to the {where} failed: {type(exc).__name__}", status=502
    )


def request_id(response: Response) -> str | None:
    """The upstream's id for this call (Kimi's Msh-Request-Id and friends)."""
    return upstream_request_id(response.headers)


class UpstreamHttp:
    """The session plus the limits every upstream call obeys."""

    def __init__(self, session: aiohttp.ClientSession, timeouts: Timeouts) -> None:
        self.session = session
        self.timeouts = timeouts

    async def open(
        self,
        method: str,
        url: str | URL,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        where: str,
        raw: bool = False,
    ) -> Response:
        """Send and return the response with its body unread (the caller releases it).
        ``raw``: relay the body as sent, content-encoding and all (the files relay)."""
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                return await self.session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    auto_decompress=not raw,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(exc, where, self.timeouts.idle) from None

    async def read(self, response: Response, where: str) -> bytes:
        """The whole body, then the connection released; transport failures as GatewayError."""
        try:
            return await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(exc, where, self.timeouts.idle) from None
        finally:
            response.release()

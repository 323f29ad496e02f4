"""The one way to open an HTTP call to an upstream, and what its transport failures mean.

Every upstream kind sends through :class:`UpstreamHttp`: the injected pooled aiohttp session
(DESIGN.md §4.3), the first-byte limit around the response head, transport failures turned into
GatewayErrors whose messages name the host and never a header or key, and the upstream's own
request id read from the reply headers in one place (``core.http_headers``).

Timeouts (settings), each bounding one thing only: ``connect_timeout`` opening a connection;
``first_byte_timeout`` the wait for the response head once the request is
sent; ``idle_timeout`` the longest pause between body chunks after the head; ``total_timeout``
the whole exchange (the face's deadline). aiohttp's ``sock_read`` timer does the last two: it is
``first_byte`` on the session and becomes ``idle`` on the connection once the head has arrived
(:func:`after_head`), so a slow head is not cut by the idle limit, nor a stalled body by the
first-byte one.

The pool holds ``server.upstream_pool_size`` connections in use at once (issue 15 item 6: a
stream holds one for its whole life). Waiting for a free one is not connecting: it is bounded by
the request's own deadline only, and a call whose deadline ends while it waits gets a 503 that
says all the connections were busy (:class:`Pool`), not a connect timeout.

A request sent on a pooled keep-alive connection that the upstream had closed meanwhile fails
at once with ServerDisconnectedError or ClientOSError, before any reply. It is resent once, on a
fresh connection (a connector that never reuses one): what RFC 9112 §9.3.1 allows a client to
do automatically, and what aiohttp does itself only for idempotent methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass

import aiohttp
from aiohttp.client_reqrep import ClientRequest, ConnectionKey
from aiohttp.connector import Connection
from aiohttp.tracing import Trace
from yarl import URL

from kimi_gateway import __version__
from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.http_headers import REQUEST_ID_HEADERS

Response = aiohttp.ClientResponse
USER_AGENT = f"kimi-gateway/{__version__}"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 10.0
    first_byte: float = 300.0
    idle: float = 300.0


POOL_SIZE = 1000  # connections in use at once, by default (settings_server.py)
# The upstream_type of the pool's refusal: the gateway's own, like the limits' queue deadline
# (reliability/retry_policy.py QUEUE_DEADLINE), so never retried nor held against the upstream.
POOL_DEADLINE = "queue_deadline"


class PoolWaitCancelled(asyncio.CancelledError):
    """A call was cancelled while it waited for a free pooled connection."""


class Pool(aiohttp.TCPConnector):
    """aiohttp's connector, at most ``size`` connections in use, telling a cancelled wait for a
    free one apart from any other cancellation. aiohttp's only public hook for that is tracing,
    whose signals cost every call; this one costs only the calls that wait."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        super().__init__(limit=size)
        self.size = size
        self.waiting = 0  # calls waiting for a free connection now (/readyz)
        self.in_use = 0  # connections held by calls now (server/runtime.py's memory watch)

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        self.in_use += 1
        connection.add_callback(self._released)  # called once, on release or close
        return connection

    def _released(self) -> None:
        self.in_use -= 1

    async def _wait_for_available_connection(self, key: ConnectionKey, traces: list[Trace]) -> None:
        self.waiting += 1
        try:
            await super()._wait_for_available_connection(key, traces)
        except asyncio.CancelledError as exc:
            raise PoolWaitCancelled(*exc.args) from None
        finally:
            self.waiting -= 1


def new_session(timeouts: Timeouts, pool_size: int = POOL_SIZE) -> aiohttp.ClientSession:
    """One pooled session for every upstream call. aiohttp over httpx by measurement: the bare
    relay floor costs 0.20 ms CPU per request with it, 0.58 ms with httpx (bench/RESULTS.md).
    ``sock_read`` starts as the wait for the response head (first byte) and is switched to the
    idle limit once the head is in; ``sock_connect`` bounds opening a connection, and nothing
    but the request's deadline the wait for a free one (``connect=None``)."""
    return _session(timeouts, Pool(pool_size))


def _session(timeouts: Timeouts, connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None,
            connect=None,
            sock_connect=timeouts.connect,
            sock_read=timeouts.first_byte,
        ),
        headers={"user-agent": USER_AGENT},
        cookie_jar=aiohttp.DummyCookieJar(),  # a relay keeps no cookies between callers
        trust_env=False,  # the upstream is chosen by our settings, not by proxy env variables
    )


def transport_error(
    exc: BaseException, where: str, idle_timeout: float, *, head: float | None = None
) -> GatewayError:
    """A GatewayError for a transport failure. ``where`` names the upstream by kind and host
    (``Kimi upstream api.moonshot.ai``); messages never name headers or keys. The gateway itself
    did not fail, so the status is a gateway's: 502 when the upstream could not be reached or
    broke off, 504 when it was too slow. ``head``: the first-byte limit, while the response
    head is awaited."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return GatewayError("timeout", f"connecting to the {where} timed out")
    if isinstance(exc, aiohttp.SocketTimeoutError):
        if head is not None:
            return GatewayError("timeout", f"the {where} sent no response head within {head:g} s")
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
    """The upstream's id for this call (Kimi's Msh-Request-Id and friends, in the order
    core.http_headers gives); aiohttp's headers are case-insensitive, so no lowered copy."""
    headers = response.headers
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


class UpstreamHttp:
    """The session plus the limits every upstream call obeys."""

    def __init__(self, session: aiohttp.ClientSession, timeouts: Timeouts) -> None:
        self.session = session
        self.timeouts = timeouts
        self.stale_resends = 0  # requests resent after a stale pooled connection
        self._fresh: aiohttp.ClientSession | None = None  # never reuses a connection

    async def open(
        self,
        method: str,
        url: str | URL,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None = None,
        *,
        where: str,
        raw: bool = False,
        deadline: float | None = None,
    ) -> Response:
        """Send and return the response with its body unread (the caller releases it).
        ``raw``: relay the body as sent, content-encoding and all (the files relay).
        ``deadline``: the request's (loop time); its end while waiting for a free pooled
        connection is answered with a 503 saying so (the caller's timer cancels the wait)."""
        if deadline is not None and asyncio.get_running_loop().time() >= deadline:
            # e.g. a fallback after the pool's refusal: the request's time is up
            raise self._deadline_passed(where, waited=False)
        try:
            try:
                response = await self._send(self.session, method, url, headers, body, raw)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if isinstance(exc, aiohttp.ClientConnectorError) or not _resendable(body):
                    raise
                self.stale_resends += 1
                response = await self._send(self.fresh(), method, url, headers, body, raw)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(
                exc, where, self.timeouts.idle, head=self.timeouts.first_byte
            ) from None
        except PoolWaitCancelled as exc:
            if deadline is None or asyncio.get_running_loop().time() < deadline:
                raise asyncio.CancelledError(*exc.args) from None  # not the deadline's
            raise self._deadline_passed(where, waited=True) from None
        after_head(response, self.timeouts.idle)
        return response

    def _deadline_passed(self, where: str, *, waited: bool) -> GatewayError:
        """``waited``: the request's deadline ended while it waited for a free pooled
        connection; raised in place of the deadline's own cancellation, so that the caller's
        ``asyncio.timeout`` lets it through and the client reads what happened. Else the
        deadline had passed before the call (a fallback after that refusal)."""
        if not waited:
            message = f"the request's deadline passed before the {where} could be called"
            return GatewayError("unavailable", message, upstream_type=POOL_DEADLINE)
        connector = self.session.connector
        size = connector.limit if connector is not None else 0
        return GatewayError(
            "unavailable",
            f"all {size} upstream connections were busy until the request's deadline: no "
            f"connection to the {where} came free in time (server.upstream_pool_size)",
            upstream_type=POOL_DEADLINE,
        )

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str | URL,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        raw: bool,
    ) -> Response:
        return await session.request(
            method,
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
            auto_decompress=not raw,
        )

    def fresh(self) -> aiohttp.ClientSession:
        """The session whose every request opens a new connection (made when first needed)."""
        if self._fresh is None:
            connector = aiohttp.TCPConnector(force_close=True)
            self._fresh = _session(self.timeouts, connector)
        return self._fresh

    async def aclose(self) -> None:
        if self._fresh is not None:
            await self._fresh.close()
            self._fresh = None

    async def read(self, response: Response, where: str) -> bytes:
        """The whole body, then the connection released; transport failures as GatewayError."""
        try:
            return await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(exc, where, self.timeouts.idle) from None
        finally:
            response.release()


def _resendable(body: bytes | AsyncIterable[bytes] | None) -> bool:
    """A body we still hold whole (an async stream was consumed by the first send)."""
    return body is None or isinstance(body, bytes | SlicedBody)


class SlicedBody:
    """A body held whole but written in slices, so that one large write does not hold the event
    loop (issue 10 item 4); each iteration starts over, so it can be sent again."""

    def __init__(self, body: bytes, size: int = 1 << 20) -> None:
        self.body = body
        self.size = size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        view = memoryview(self.body)
        for start in range(0, len(view), self.size):
            yield bytes(view[start : start + self.size])


def after_head(response: Response, idle: float) -> None:
    """From now on the read timer is the idle limit (it was the first-byte limit)."""
    connection = response.connection
    protocol = connection.protocol if connection is not None else None
    if protocol is not None:
        protocol.read_timeout = idle
        protocol.start_timeout()

"""The HTTP/1.1 connection limits uvicorn's httptools protocol lacks (issue 10 item 5), and the
uvicorn options that carry the ones it has.

uvicorn closes an idle keep-alive connection (``timeout_keep_alive``) but, on the version we
pin, holds a connection that sends half a request head, or a body at one byte a second, forever;
accepts any number and size of header lines; accepts any number of connections
(``limit_concurrency`` answers 503 only once a request head is complete); and keeps a connection
whose body the app stopped reading. :class:`GatewayProtocol` adds, per ``security.connections``:

- ``header_timeout``: the whole head within this many seconds of its first byte (or of the
  connection opening); else a 408 (a silent close when nothing arrived at all) and the end;
- ``body_timeout`` / ``body_min_rate``: a body that pauses longer than ``body_timeout``, or
  averages under ``body_min_rate`` bytes/s once ``body_timeout`` has passed, is marked in the
  scope (:data:`BODY_TIMED_OUT`) and its reader woken: the app answers 408 in the route's
  dialect (server/asgi.py ``read_body``); if it does not, the connection closes anyway;
- ``max_header_bytes`` / ``max_header_count``: 431 and close;
- ``max_connections``: a connection over the limit gets a 503 and is closed at once;
- a response sent before the request body ended: the rest of the body is read and dropped (so
  the client sees the response, not a reset, and may send its next request), but only for
  ``_LINGER`` seconds; a body still trickling in then is cut off with the connection.

Timeouts cost nothing per request: no timer is armed per request or per read (an
``asyncio.timeout`` costs ~18 µs on uvloop, measured); one sweep per server, every ``_TICK``
seconds at most, checks each open connection. Refusals at this level are plain text, like
uvicorn's own 400s: no route (so no dialect) is known yet.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Literal, cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from kimi_gateway.server.asgi import BODY_TIMED_OUT, ON_DISCONNECT
from kimi_gateway.settings import Settings
from kimi_gateway.settings_security import ConnectionSettings

_LINGER = 5.0  # seconds a body answered early may take to end (nginx lingering_timeout: 5 s)
_TICK = 1.0  # longest interval between two sweeps (shorter when a timeout is shorter)
Phase = Literal["head", "body", "other"]


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the refusal is already noted."""


class _Sweep:
    """One per server: every tick, each open connection checks its own time limits."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limits: ConnectionSettings) -> None:
        self.loop = loop
        self.members: set[GatewayProtocol] = set()
        self.tick = min(_TICK, limits.header_timeout / 4, limits.body_timeout / 4)
        self._handle: asyncio.TimerHandle | None = None

    def add(self, member: GatewayProtocol) -> None:
        self.members.add(member)
        if self._handle is None:
            self._handle = self.loop.call_later(self.tick, self._run)

    def _run(self) -> None:
        self._handle = None
        now = self.loop.time()
        for member in list(self.members):
            member.check_time(now)
        if self.members:
            self._handle = self.loop.call_later(self.tick, self._run)


class GatewayProtocol(HttpToolsProtocol):
    LIMITS: ClassVar[ConnectionSettings] = ConnectionSettings()
    SWEEPS: ClassVar[dict[asyncio.AbstractEventLoop, _Sweep]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: Phase = "head"
        self._phase_at = self.loop.time()
        self._last_data = self._phase_at
        self._body_bytes = 0
        self._head_raw = 0  # bytes received while the head is incomplete
        self._head_parsed = 0  # bytes of the target and header lines parsed so far
        self._head_fields = 0
        self._seen_bytes = False
        self._began = False  # a request head began in the chunk being parsed
        # Answered before its body ended: the close that ends the drain unless the body does.
        self._draining: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None

    # --- connection -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        crowded = len(self.connections) >= self.LIMITS.max_connections
        super().connection_made(transport)
        if crowded:
            self._write_refusal(503, "too many connections")
            return
        sweep = self.SWEEPS.get(self.loop)
        if sweep is None:
            sweep = self.SWEEPS[self.loop] = _Sweep(self.loop, self.LIMITS)
        sweep.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        sweep = self.SWEEPS.get(self.loop)
        if sweep is not None:
            sweep.members.discard(self)
            if not sweep.members:
                del self.SWEEPS[self.loop]
        super().connection_lost(exc)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            for hook in list(cast(dict[str, Any], cycle.scope).get(ON_DISCONNECT) or ()):
                hook()  # asgi.DisconnectWatch: the request's task is cancelled

    def data_received(self, data: bytes) -> None:
        self._seen_bytes = True
        self._began = False
        if self._phase == "head":
            self._head_raw += len(data)
        super().data_received(data)
        # Still in the head after this chunk: the bytes counted belong to it (a header line that
        # never ends is held by the parser, not yet seen by on_header). A head that began in
        # this chunk is counted as the whole chunk: at most what a pipelined request before it
        # sent too, in the same read.
        if self._phase == "head" and self._began:
            self._head_raw = max(self._head_raw, len(data))
        if self._phase == "head" and self._head_raw > self.LIMITS.max_header_bytes:
            self._refuse(431, "request header fields too large")

    # --- parser callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._enter("head")
        self._head_raw = self._head_parsed = self._head_fields = 0
        self._began = True

    def on_url(self, url: bytes) -> None:
        self._head_parsed += len(url)
        if self._head_parsed > self.LIMITS.max_header_bytes:
            self._over_head()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # Inline, not a helper call: this runs for every header line of every request.
        self._head_fields += 1
        self._head_parsed += len(name) + len(value) + 4
        limits = self.LIMITS
        if self._head_parsed > limits.max_header_bytes or (
            self._head_fields > limits.max_header_count
        ):
            self._over_head()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._enter("body")
        self._body_bytes = 0
        # Told of a lost client directly, the app needs no task waiting on receive per request.
        cast(dict[str, Any], self.scope)[ON_DISCONNECT] = []
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        self._last_data = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._phase = "other"
        super().on_message_complete()
        if self._draining is not None:  # the rest of a body answered early has come and gone
            self._draining.cancel()
            self._draining = None
            super().on_response_complete()  # the connection carries on as after any response

    def on_response_complete(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not self.transport.is_closing():
            # Answered before its body ended (408, 413, 415, 401 …): read the rest and drop it
            # (the parser does), then carry on; if it has not ended within _LINGER, close.
            self._phase = "other"
            self.flow.resume_reading()
            self._draining = self.loop.call_later(_LINGER, self.transport.close)
            return
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        if self._refusal is not None:
            self._write_refusal(*self._refusal)
        else:
            super().send_400_response(msg)

    # --- limits -------------------------------------------------------------------------------

    def _enter(self, phase: Phase) -> None:
        self._phase = phase
        self._phase_at = self._last_data = self.loop.time()

    def _over_head(self) -> None:
        """The head is over a limit: note the refusal and stop the parser."""
        if self._head_fields > self.LIMITS.max_header_count:
            self._refusal = (431, "too many request header fields")
        else:
            self._refusal = (431, "request header fields too large")
        raise _Refused

    def check_time(self, now: float) -> None:
        """The sweep's call: end a head or a body that is too slow."""
        if self.transport.is_closing():
            return
        limits = self.LIMITS
        if self._phase == "head" and now - self._phase_at > limits.header_timeout:
            if self._seen_bytes:
                self._refuse(408, "the request head did not arrive in time")
            else:
                self.transport.close()  # nothing was asked: nothing to answer
        elif self._phase == "body":
            if self.flow.read_paused:  # the app has not read what came: our wait, not theirs
                self._last_data = now
                self._phase_at += self.SWEEPS[self.loop].tick
                return
            stalled = now - self._last_data > limits.body_timeout
            allowed = limits.body_timeout + (
                self._body_bytes / limits.body_min_rate if limits.body_min_rate else float("inf")
            )
            if stalled or now - self._phase_at > allowed:
                self._body_timed_out()

    def _body_timed_out(self) -> None:
        """Tell the app (it answers 408 in its route's dialect) and close soon whatever it does."""
        self._phase = "other"
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return
        scope = cast(dict[str, Any], cycle.scope)  # the app's scope: it looks for this key
        scope[BODY_TIMED_OUT] = True
        cycle.message_event.set()
        self.loop.call_later(_LINGER, self.transport.close)

    def _refuse(self, status: int, reason: str) -> None:
        if not self.transport.is_closing():
            self._write_refusal(status, reason)

    def _write_refusal(self, status: int, reason: str) -> None:
        self._phase = "other"
        body = reason.encode("ascii")
        head = [
            STATUS_LINE[status],
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def protocol_class(limits: ConnectionSettings) -> type[GatewayProtocol]:
    """A protocol class bound to ``limits`` (uvicorn builds one instance per connection)."""

    class Bound(GatewayProtocol):
        LIMITS = limits
        SWEEPS: ClassVar[dict[asyncio.AbstractEventLoop, _Sweep]] = {}

    return Bound


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The ``uvicorn.Config`` keywords for the connection limits (and the httptools parser the
    limits are built on)."""
    limits = settings.security.connections
    return {"http": protocol_class(limits), "timeout_keep_alive": limits.keep_alive_timeout}

"""The upstream interface: what "call an upstream" means to everything that wraps it.

An :class:`Upstream` is one place a generation can be sent: a Kimi surface, an OpenAI-compatible
host, or a wrapper around another upstream (retry, limits, breaker, fallback are Upstreams too,
DESIGN.md §2a). ``open`` returns only once the response head and the first batch of events have
been read, so a wrapper can still retry or fall back before anything reaches the client; after
that, failures arrive as a ``StreamError`` event in :meth:`Opened.rest`, never as a retry.

Events travel in batches (what one upstream read produced) so that a face can write what arrived
together in one write; a batch is never empty. No I/O here: implementations live in
``upstreams/``; this module only says what they promise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kimi_gateway.core.events import StreamEvent
from kimi_gateway.core.model import Diagnostic, DialectName, Request, Response
from kimi_gateway.core.records import record

Batch = list[StreamEvent]


@record
class CallContext:
    """What a call needs besides the request: when it must end, and who the client is."""

    deadline: float | None = None  # event-loop time by which the whole call must end
    user_agent: str | None = None  # the client's own (Kimi Code gates on it; never forged)
    request_id: str | None = None  # the gateway's id of the request, for logs
    key_id: str | None = None  # the caller's gateway key (per-key limits, fair queueing)
    # A large request: CPU-heavy steps (translate, encode) run off the event loop (upstreams'
    # ``off_loop``), so one big body does not stall every other client (issue 10 item 4).
    heavy: bool = False
    # Reasoning the gateway remembered for tool calls whose turns came back without it, by
    # tool-call id (engine/reasoning_store.py); the Kimi quirk ``restore_reasoning`` reads it.
    reasoning: Mapping[str, str] | None = None


async def _nothing() -> None:
    return None


async def _no_batches() -> AsyncIterator[Batch]:
    return
    yield  # pragma: no cover


@dataclass(slots=True)
class Opened:
    """An upstream generation whose head and first batch have arrived.

    Exactly one of these holds the reply: ``complete`` (the upstream answered in one body) or
    ``first`` + ``rest`` (a stream). Consumers read ``rest`` to its end or ``aclose`` it; after a
    clean end, ``finish`` reads what still follows the last event (a chunked body's terminator)
    so the connection goes back to the pool.
    """

    upstream: str  # the name of the upstream that answered (after any fallback)
    model: str  # the upstream model id it answered with
    request_id: str | None  # the upstream's own request id (what its support asks for)
    diagnostics: tuple[Diagnostic, ...]  # what the request-side translation changed
    first: Batch = field(default_factory=list)
    rest: AsyncIterator[Batch] = field(default_factory=_no_batches)
    complete: Response | None = None
    finish: Callable[[], Awaitable[None]] = _nothing
    aclose: Callable[[], Awaitable[None]] = _nothing
    attempts: int = 1  # how many upstream calls it took (retries and fallbacks count)
    enforce_stop: tuple[str, ...] = ()  # stop sequences the upstream was not sent (core/stops)


@dataclass(frozen=True, slots=True)
class ListedModel:
    """One model an upstream serves, with what its list says about it beyond the envelope
    (Kimi's ``context_length``, ``supports_image_in``, ``supports_reasoning`` …: docs/kimi.md
    §11); ``info`` is empty when the upstream lists names only."""

    id: str
    info: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FileReply:
    """An upstream Files API reply: status, the headers worth relaying, the body as it comes."""

    status: int
    headers: Mapping[str, str]
    body: AsyncIterator[bytes]
    release: Callable[[], None]
    diagnostics: tuple[Diagnostic, ...] = ()  # what the upstream changed in the request


class FilesAPI(Protocol):
    async def relay(
        self,
        method: str,
        suffix: str,
        query: str,
        headers: Mapping[str, str],
        body: AsyncIterator[bytes] | None,
        ctx: CallContext,
    ) -> FileReply:
        """``method`` on the upstream's ``/files{suffix}?{query}``; errors as GatewayError."""
        ...


class Upstream(Protocol):
    """One upstream, by name. ``dialect`` is what it speaks; ``product`` says which service it
    is (``platform``, ``kimi_code``, ``openai_compatible``) for routing and messages."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def product(self) -> str: ...

    @property
    def dialect(self) -> DialectName: ...

    @property
    def files(self) -> FilesAPI | None:
        """The Files API, where the upstream has one."""
        ...

    def upstream_model(self, model: str) -> str:
        """The id this upstream knows ``model`` by (its model-name map; else unchanged)."""
        ...

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        """Send ``request`` (its ``model`` already the upstream's id) and read to the first
        batch; a failure before that raises GatewayError."""
        ...

    async def models(self, ctx: CallContext) -> list[ListedModel]:
        """The models it serves (its own list, or what it is known to serve)."""
        ...

    async def count_tokens(self, request: Request, ctx: CallContext) -> int:
        """The upstream's estimate of the request's input tokens; GatewayError ``not_found``
        where it has none."""
        ...

"""Where an SDK client's calls go: the engine in-process (:class:`EngineBackend`, the default) or
a running gateway (``remote.GatewayBackend``). Both take the OpenAI-style body the SDK builds
and give back the same canonical event batches, so everything above (results, streams, the tool
loop, files, conversations) has one code path.

The in-process backend is the gateway's own pipeline without the HTTP server: the body is parsed
by the openai_chat dialect, and ``engine.build_engine`` — the recipe the server's lifespan uses —
routes, admits and sends it (quirks, and whatever wrappers the engine is built with). The
aiohttp session is created on first use, inside the caller's event loop, and closed by
:meth:`EngineBackend.close`.

With ``ledger=True`` the engine gets the gateway's own ledger hooks (server/ledger_runtime.py,
built from the same ``ledger:`` settings section and database URL): budgets are reserved
before dispatch and settled after, and every generation becomes a row written off the call
path, with route ``sdk``. The ledger is opened on first use and its queued rows are written by
:meth:`EngineBackend.close`. Off by default, so the SDK needs no database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Diagnostic
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.principal import ANONYMOUS
from kimi_gateway.core.upstream import Batch, CallContext, FilesAPI
from kimi_gateway.dialects.openai_chat import parse_request
from kimi_gateway.engine import Engine, Generation, build_engine, new_http_session
from kimi_gateway.settings import Settings
from kimi_gateway.upstreams.kimi.profiles import profile_for

if TYPE_CHECKING:  # the ledger (SQLAlchemy, prometheus) loads only when it is asked for
    from kimi_gateway.server.ledger_runtime import LedgerRuntime

ROUTE = "sdk"  # the ledger rows' route for in-process calls


class Source(Protocol):
    """One opened generation, as event batches ending in ``Done`` or ``StreamError``."""

    @property
    def request_id(self) -> str | None: ...

    @property
    def upstream(self) -> str | None: ...

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]: ...

    def batches(self) -> AsyncIterator[Batch]: ...

    async def finish(self) -> None:
        """After a clean end: release the connection to the pool."""
        ...

    async def close(self, error: str | None = None) -> None: ...


class Backend(Protocol):
    """What a client needs from where its calls go. ``body`` is an OpenAI Chat body."""

    @property
    def account(self) -> tuple[str, ...]:
        """What identifies the account files live in (where, and with which key)."""
        ...

    async def open(self, body: Mapping[str, Any], deadline: float) -> Source: ...

    async def count_tokens(self, body: Mapping[str, Any]) -> int:
        """Kimi's estimate of the body's input tokens; GatewayError ``not_found`` where the
        model's product has none (Kimi Code)."""
        ...

    async def model_ids(self) -> list[str]: ...

    def product_of(self, model: str) -> str | None:
        """``platform`` or ``kimi_code``: which product serves ``model`` (None: unknown)."""
        ...

    async def files_call(
        self, method: str, suffix: str, *, headers: Mapping[str, str], body: bytes | None
    ) -> bytes:
        """``method`` on the Open Platform's ``/files{suffix}``; the body of a 2xx reply,
        else GatewayError in Kimi's words."""
        ...

    async def close(self) -> None: ...


class _EngineSource:
    def __init__(self, generation: Generation) -> None:
        self._generation = generation

    @property
    def request_id(self) -> str | None:
        return self._generation.outcome.upstream_request_id

    @property
    def upstream(self) -> str | None:
        return self._generation.outcome.upstream

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self._generation.diagnostics

    def batches(self) -> AsyncIterator[Batch]:
        return self._generation.batches()

    async def finish(self) -> None:
        await self._generation.finish()

    async def close(self, error: str | None = None) -> None:
        await self._generation.close(error)


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _one(body: bytes) -> AsyncIterator[bytes]:
    yield body


class EngineBackend:
    """The engine, in this process."""

    def __init__(
        self, settings: Settings, *, user_agent: str | None = None, ledger: bool = False
    ) -> None:
        self.settings = settings
        self._user_agent = user_agent  # forwarded to Kimi Code as the client's own (§13.1)
        self._session: aiohttp.ClientSession | None = None
        self._engine: Engine | None = None
        self._use_ledger = ledger
        self.ledger: LedgerRuntime | None = None
        self._opening: asyncio.Lock | None = None

    @property
    def account(self) -> tuple[str, ...]:
        key = self.settings.api_key
        where = self.settings.base_url or self.settings.region
        return where, key.get_secret_value() if key is not None else ""

    @property
    def engine(self) -> Engine:
        """The engine (made on first use); with the ledger, only once :meth:`ready` made it."""
        if self._engine is None:
            if self._use_ledger:
                raise RuntimeError("the engine with a ledger is made by ready()")
            self._session = new_http_session(self.settings)
            self._engine = build_engine(self.settings, self._session)
        return self._engine

    async def ready(self) -> Engine:
        """The engine, with the ledger opened first when the client records usage."""
        if self._engine is not None or not self._use_ledger:
            return self.engine
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._engine is None:
                await self._open_with_ledger()
        assert self._engine is not None
        return self._engine

    async def _open_with_ledger(self) -> None:
        from prometheus_client import CollectorRegistry

        from kimi_gateway.server.ledger_runtime import open_ledger

        # Its own registry: metrics are the server's; the rows and budgets are what matter here.
        ledger = await asyncio.to_thread(open_ledger, self.settings, CollectorRegistry())
        try:
            await ledger.start()
        except BaseException:
            await ledger.close()
            raise
        self.ledger = ledger
        self._session = new_http_session(self.settings)
        self._engine = build_engine(
            self.settings, self._session, before=ledger.before_hooks(), after=ledger.after_hooks()
        )

    def _ctx(self, deadline: float | None = None) -> CallContext:
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self.settings.total_timeout
        return CallContext(deadline, self._user_agent, None)

    async def open(self, body: Mapping[str, Any], deadline: float) -> Source:
        request = parse_request(body)
        engine = await self.ready()
        outcome = Outcome("openai_chat", route=ROUTE)
        generation = await engine.open(request, ANONYMOUS, outcome, self._ctx(deadline))
        return _EngineSource(generation)

    async def count_tokens(self, body: Mapping[str, Any]) -> int:
        request = parse_request(body)
        engine = await self.ready()
        ctx = self._ctx()
        async with asyncio.timeout_at(ctx.deadline or 0):
            outcome = Outcome("openai_chat", route=ROUTE)
            return await engine.count_tokens(request, ANONYMOUS, outcome, ctx)

    async def model_ids(self) -> list[str]:
        models = await (await self.ready()).models(self._ctx())
        return [listed.id for listed in models]

    def product_of(self, model: str) -> str | None:
        if self._engine is None and (self._use_ledger or not _in_loop()):
            # The engine's session belongs to a loop (and with a ledger it is made by ready()):
            # until it exists, answer from the settings alone (the product the name belongs
            # to, if a key for it is set).
            return self._product_by_settings(model)
        try:
            return self.engine.router.resolve(model, "openai_chat").upstream.product
        except GatewayError:
            return None

    def _product_by_settings(self, model: str) -> str | None:
        has = {"platform": self.settings.api_key, "kimi_code": self.settings.code_api_key}
        named = profile_for(model).product
        if has[named] is not None:
            return named
        other = "platform" if named == "kimi_code" else "kimi_code"
        return other if has[other] is not None else None

    def _files(self) -> FilesAPI:
        for upstream in self.engine.upstreams.values():
            if upstream.files is not None:
                return upstream.files
        raise GatewayError(
            "not_found", "Kimi's Files API needs an Open Platform key (KIMI_API_KEY); none is set"
        )

    async def files_call(
        self, method: str, suffix: str, *, headers: Mapping[str, str], body: bytes | None
    ) -> bytes:
        await self.ready()
        files = self._files()
        ctx = self._ctx()
        wanted = {"accept-encoding": "identity", **headers}  # the relay does not decompress
        async with asyncio.timeout_at(ctx.deadline or 0):
            reply = await files.relay(
                method, suffix, "", wanted, None if body is None else _one(body), ctx
            )
            try:
                return b"".join([chunk async for chunk in reply.body])
            finally:
                reply.release()

    async def close(self) -> None:
        engine, session, ledger = self._engine, self._session, self.ledger
        self._engine = self._session = self.ledger = None
        try:
            # What the engine's reliability wrappers hold, where it has them (as the server's
            # lifespan does before closing its session).
            aclose = getattr(engine, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            try:
                if session is not None:
                    await session.close()
            finally:
                if ledger is not None:
                    await ledger.close()  # settles budgets, writes every queued row

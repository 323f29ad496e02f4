"""``Kimi``: the synchronous face of :class:`~kimi_gateway.sdk.client.AsyncKimi`.

Each client runs a private event loop in a daemon thread and hands it coroutines; the calling
thread waits for their results. So a sync program (or a notebook already running its own loop)
gets the same engine, in the same process, without ``asyncio`` of its own. The loop and its
HTTP session end with :meth:`Kimi.close` (or the ``with`` block, or when the client is garbage
collected). An interrupted wait (Ctrl-C) cancels the call on the loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

from kimi_gateway.sdk.client import AsyncKimi, Messages, ToolLike
from kimi_gateway.sdk.config import Product
from kimi_gateway.sdk.models import ModelInfo
from kimi_gateway.sdk.results import ChatResult, Delta
from kimi_gateway.sdk.stream import ChatStream
from kimi_gateway.sdk.sync_parts import Conversation, Files
from kimi_gateway.sdk.toolcall import ToolAudit
from kimi_gateway.sdk.toolloop import RepeatPolicy, RunResult
from kimi_gateway.settings import Settings
from kimi_gateway.settings_ledger import LedgerSettings

T = TypeVar("T")


class LoopThread:
    """An event loop running in its own daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="kimi-sdk-loop", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("a sync Kimi client cannot be called from its own loop")
        if self.loop.is_closed():
            coro.close()
            raise RuntimeError("this Kimi client is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def _on_loop(make: Callable[..., T], **kwargs: Any) -> T:
    """``make(**kwargs)`` called on the client's loop (the engine's HTTP session is made on
    first use and belongs to the loop it was made in)."""
    return make(**kwargs)


def _shutdown(runner: LoopThread, client: AsyncKimi) -> None:
    try:
        if not runner.loop.is_closed():
            runner.run(client.close())
    finally:
        runner.stop()


class SyncChatStream:
    """``for delta in stream`` … then ``stream.result``; ``close()`` stops early."""

    def __init__(self, runner: LoopThread, stream: ChatStream) -> None:
        self._runner = runner
        self._stream = stream

    def __iter__(self) -> Iterator[Delta]:
        return self

    def __next__(self) -> Delta:
        try:
            return self._runner.run(self._stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    @property
    def result(self) -> ChatResult:
        return self._stream.result

    def collect(self) -> ChatResult:
        return self._runner.run(self._stream.collect())

    def close(self) -> None:
        self._runner.run(self._stream.aclose())

    def __enter__(self) -> SyncChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Kimi:
    """Kimi, synchronously: the same arguments as :class:`AsyncKimi`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        product: Product | None = None,
        model: str | None = None,
        gateway_url: str | None = None,
        settings: Settings | None = None,
        user_agent: str | None = None,
        ledger: bool | LedgerSettings | Mapping[str, Any] = False,
        **fields: Any,
    ) -> None:
        self.aio = AsyncKimi(
            api_key,
            base_url,
            product=product,
            model=model,
            gateway_url=gateway_url,
            settings=settings,
            user_agent=user_agent,
            ledger=ledger,
            **fields,
        )
        self._runner = LoopThread()
        self._finalizer = weakref.finalize(self, _shutdown, self._runner, self.aio)
        self._files: Files | None = None

    @property
    def settings(self) -> Settings:
        return self.aio.settings

    @property
    def default_model(self) -> str:
        return self.aio.default_model

    @overload
    def chat(
        self,
        messages: Messages,
        *,
        model: str | None = ...,
        tools: Sequence[ToolLike] | None = ...,
        stream: Literal[False] = ...,
        **options: Any,
    ) -> ChatResult: ...

    @overload
    def chat(
        self,
        messages: Messages,
        *,
        model: str | None = ...,
        tools: Sequence[ToolLike] | None = ...,
        stream: Literal[True],
        **options: Any,
    ) -> SyncChatStream: ...

    def chat(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        tools: Sequence[ToolLike] | None = None,
        stream: bool = False,
        **options: Any,
    ) -> ChatResult | SyncChatStream:
        """One reply, or with ``stream=True`` an iterator of deltas (see AsyncKimi.chat)."""
        body = self.aio.body(messages, model=model, tools=tools, **options)
        opened = self._runner.run(self.aio.open(body))
        if stream:
            return SyncChatStream(self._runner, opened)
        return self._runner.run(opened.collect())

    def run_tools(
        self,
        messages: Messages,
        *,
        tools: Sequence[ToolLike],
        model: str | None = None,
        max_steps: int = 10,
        tool_timeout: float | None = 60.0,
        repeat: RepeatPolicy | None = None,
        on_call: Callable[[ToolAudit], None] | None = None,
        **options: Any,
    ) -> RunResult:
        """The tool loop (see AsyncKimi.run_tools). Sync tools run in worker threads."""
        return self._runner.run(
            self.aio.run_tools(
                messages,
                tools=tools,
                model=model,
                max_steps=max_steps,
                tool_timeout=tool_timeout,
                repeat=repeat,
                on_call=on_call,
                **options,
            )
        )

    def count_tokens(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        tools: Sequence[ToolLike] | None = None,
    ) -> int:
        return self._runner.run(self.aio.count_tokens(messages, model=model, tools=tools))

    def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        return self._runner.run(self.aio.models(refresh=refresh))

    @property
    def files(self) -> Files:
        if self._files is None:
            self._files = Files(self._runner.run, self.aio.files)
        return self._files

    def conversation(self, **kwargs: Any) -> Conversation:
        """A conversation kept within the model's context window (see AsyncConversation)."""
        made = self._runner.run(_on_loop(self.aio.conversation, **kwargs))
        return Conversation(self._runner.run, made)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> Kimi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

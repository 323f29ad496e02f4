"""``AsyncKimi``: Kimi from Python, through the gateway's own engine in this process (no server,
database or Redis), or through a running gateway (``gateway_url=``).

Messages and tools are OpenAI-style (the openai_chat dialect parses them); any other Chat
Completions field passes through ``**options`` (``max_tokens``, ``temperature``,
``tool_choice``, ``thinking``, ``reasoning_effort``, ``response_format``, ``prompt_cache_key``
…) and the quirk layer makes it acceptable to the model, as the gateway does. Settings (keys,
base URLs, default model, timeouts, data directory) come from the same environment variables as
the gateway (config.py); arguments win.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from kimi_gateway.sdk.backend import Backend, EngineBackend
from kimi_gateway.sdk.config import Product, client_settings
from kimi_gateway.sdk.models import ModelCache, ModelInfo
from kimi_gateway.sdk.results import ChatResult
from kimi_gateway.sdk.stream import ChatStream
from kimi_gateway.sdk.toolcall import ToolAudit
from kimi_gateway.sdk.toolloop import RepeatPolicy, RunResult, ToolLoop
from kimi_gateway.sdk.tools import Tool, as_tool
from kimi_gateway.settings import Settings
from kimi_gateway.settings_ledger import LedgerSettings

if TYPE_CHECKING:
    from kimi_gateway.sdk.conversation import AsyncConversation
    from kimi_gateway.sdk.files import AsyncFiles

Messages = str | Sequence[Mapping[str, Any]]
ToolLike = Tool | Callable[..., Any] | Mapping[str, Any] | str


def as_messages(messages: Messages) -> list[dict[str, Any]]:
    """A bare string is one user message."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [dict(m) for m in messages]


def tool_specs(tools: Sequence[ToolLike] | None) -> list[dict[str, Any]]:
    """OpenAI-style tool entries: raw entries verbatim, everything else via :class:`Tool`."""
    specs = []
    for item in tools or ():
        if isinstance(item, Mapping) and "type" in item:
            specs.append(dict(item))
        else:
            specs.append(as_tool(item).spec())
    return specs


class AsyncKimi:
    """Kimi, asynchronously. Use ``async with AsyncKimi() as kimi:`` or ``await kimi.close()``.

    ``api_key``/``base_url`` are Kimi's (Open Platform, or Kimi Code for ``sk-kimi-`` keys or
    ``product="kimi_code"``); with ``gateway_url`` they are the gateway's key and nothing
    goes to Kimi directly. ``settings`` fields may be given by name (``code_api_key``,
    ``total_timeout``, ``data_dir``, ``database_url``, ``redis_url`` …).

    ``ledger``: record every in-process call as the gateway does (a usage row with tokens and
    cost, budgets reserved and settled), in the settings' database (``database_url``, else
    SQLite in the data directory). ``True`` uses the settings' ``ledger:`` section; a
    ``LedgerSettings`` or a mapping of its fields replaces it. Off by default (no database).
    """

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
        if ledger is not False and not isinstance(ledger, bool):
            fields["ledger"] = ledger
        if gateway_url is not None:
            if ledger is not False:
                raise ValueError(
                    "ledger= records in-process calls; with gateway_url the gateway's own "
                    "ledger records them (for the key this client sends)"
                )
            self.settings = client_settings(settings, default_model=model, **fields)
            from kimi_gateway.sdk.remote import GatewayBackend

            self.backend: Backend = GatewayBackend(gateway_url, api_key, self.settings)
        else:
            self.settings = client_settings(
                settings,
                api_key=api_key,
                base_url=base_url,
                product=product,
                default_model=model,
                **fields,
            )
            self.backend = EngineBackend(
                self.settings, user_agent=user_agent, ledger=ledger is not False
            )
        self._models = ModelCache(self.settings.models_cache_seconds)
        self._files: AsyncFiles | None = None

    @property
    def default_model(self) -> str:
        return self.settings.default_model

    def body(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        tools: Sequence[ToolLike] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """The OpenAI Chat body a call sends (before the quirk layer)."""
        body: dict[str, Any] = {"model": model or self.default_model}
        body["messages"] = as_messages(messages)
        specs = tool_specs(tools)
        if specs:
            body["tools"] = specs
        body.update({k: v for k, v in options.items() if v is not None})
        body["stream"] = True
        return body

    @overload
    async def chat(
        self,
        messages: Messages,
        *,
        model: str | None = ...,
        tools: Sequence[ToolLike] | None = ...,
        stream: Literal[False] = ...,
        **options: Any,
    ) -> ChatResult: ...

    @overload
    async def chat(
        self,
        messages: Messages,
        *,
        model: str | None = ...,
        tools: Sequence[ToolLike] | None = ...,
        stream: Literal[True],
        **options: Any,
    ) -> ChatStream: ...

    async def chat(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        tools: Sequence[ToolLike] | None = None,
        stream: bool = False,
        **options: Any,
    ) -> ChatResult | ChatStream:
        """One reply: a :class:`ChatResult`, or with ``stream=True`` a :class:`ChatStream` of
        deltas (already open: errors before the first byte are raised here)."""
        opened = await self.open(self.body(messages, model=model, tools=tools, **options))
        return opened if stream else await opened.collect()

    async def open(self, body: Mapping[str, Any]) -> ChatStream:
        """Send a prepared body (see :meth:`body`) and return its stream."""
        deadline = asyncio.get_running_loop().time() + self.settings.total_timeout
        async with asyncio.timeout_at(deadline):
            source = await self.backend.open(body, deadline)
        return ChatStream(source, deadline)

    async def run_tools(
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
        """Ask, run the tools the model calls, answer them, until it answers in text (see
        toolloop.py for the guardrails)."""
        loop = ToolLoop(
            self._chat_for_loop,
            [as_tool(t) for t in tools],
            max_steps=max_steps,
            repeat=repeat or RepeatPolicy(),
            tool_timeout=tool_timeout,
            on_call=on_call,
        )
        return await loop.run(as_messages(messages), {"model": model, **options})

    async def _chat_for_loop(
        self, *, messages: Messages, tools: Sequence[ToolLike], **options: Any
    ) -> ChatResult:
        result: ChatResult = await self.chat(messages, tools=tools, **options)
        return result

    async def count_tokens(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        tools: Sequence[ToolLike] | None = None,
    ) -> int:
        """Kimi's estimate of the input tokens (docs/kimi.md §11); GatewayError ``not_found``
        for Kimi Code models, which have no estimate endpoint."""
        body = self.body(messages, model=model, tools=tools)
        return await self.backend.count_tokens(body)

    async def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """The models one may ask for, with capabilities; cached ``models_cache_seconds``."""
        return await self._models.get(
            self.backend.model_ids, self.backend.product_of, refresh=refresh
        )

    @property
    def files(self) -> AsyncFiles:
        """Kimi's Files API: upload once per content, ask about documents (files.py)."""
        if self._files is None:
            from kimi_gateway.sdk.files import AsyncFiles

            self._files = AsyncFiles(self)
        return self._files

    def conversation(self, **kwargs: Any) -> AsyncConversation:
        """A conversation kept within the model's context window (conversation.py)."""
        from kimi_gateway.sdk.conversation import AsyncConversation

        return AsyncConversation(self, **kwargs)

    async def close(self) -> None:
        await self.backend.close()

    async def __aenter__(self) -> AsyncKimi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

"""The synchronous faces of the SDK's parts (files, conversations): each method hands the async
one's coroutine to the client's loop thread (sync.py) and waits for it."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from kimi_gateway.core.usage import Usage
from kimi_gateway.sdk.compaction import Message
from kimi_gateway.sdk.conversation import AsyncConversation
from kimi_gateway.sdk.file_cache import FileRecord
from kimi_gateway.sdk.files import AsyncFiles, PathLike
from kimi_gateway.sdk.results import ChatResult
from kimi_gateway.sdk.toolloop import RunResult

if TYPE_CHECKING:
    from kimi_gateway.sdk.client import ToolLike

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, Any]], Any]


class Files:
    """Kimi's Files API, synchronously (see AsyncFiles)."""

    def __init__(self, run: Run, files: AsyncFiles) -> None:
        self._run = run
        self.aio = files

    @property
    def uploads(self) -> int:
        """How many files this client actually sent to Kimi."""
        return self.aio.uploads

    def upload(self, path: PathLike, *, purpose: str | None = None) -> FileRecord:
        result: FileRecord = self._run(self.aio.upload(path, purpose=purpose))
        return result

    def content(self, path: PathLike) -> str:
        result: str = self._run(self.aio.content(path))
        return result

    def media_url(self, path: PathLike, *, model: str | None = None) -> str:
        result: str = self._run(self.aio.media_url(path, model=model))
        return result

    def messages(
        self, paths: Sequence[PathLike], question: str, *, model: str | None = None
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._run(self.aio.messages(paths, question, model=model))
        return result

    def list(self) -> builtins.list[dict[str, Any]]:
        result: builtins.list[dict[str, Any]] = self._run(self.aio.list())
        return result

    def ask(
        self,
        paths: PathLike | Sequence[PathLike],
        question: str,
        *,
        model: str | None = None,
        system: str | None = None,
        **options: Any,
    ) -> ChatResult:
        result: ChatResult = self._run(
            self.aio.ask(paths, question, model=model, system=system, **options)
        )
        return result

    def prune(
        self, *, older_than: float | timedelta | None = None, everything: bool = False
    ) -> builtins.list[FileRecord]:
        result: builtins.list[FileRecord] = self._run(
            self.aio.prune(older_than=older_than, everything=everything)
        )
        return result


class Conversation:
    """A conversation kept within the context window, synchronously (see AsyncConversation)."""

    def __init__(self, run: Run, conversation: AsyncConversation) -> None:
        self._run = run
        self.aio = conversation

    def say(self, content: Any, **options: Any) -> ChatResult:
        result: ChatResult = self._run(self.aio.say(content, **options))
        return result

    def send(self, message: Message, **options: Any) -> ChatResult:
        result: ChatResult = self._run(self.aio.send(message, **options))
        return result

    def run_tools(self, content: Any, *, tools: Sequence[ToolLike], **options: Any) -> RunResult:
        result: RunResult = self._run(self.aio.run_tools(content, tools=tools, **options))
        return result

    def count(self) -> int:
        result: int = self._run(self.aio.count())
        return result

    @property
    def messages(self) -> list[Message]:
        return self.aio.messages

    @property
    def history(self) -> list[Message]:
        return self.aio.history

    @property
    def summary(self) -> str | None:
        return self.aio.summary

    @property
    def summaries(self) -> int:
        return self.aio.summaries

    @property
    def usage(self) -> Usage:
        return self.aio.usage

    @property
    def cache_hit_ratio(self) -> float:
        return self.aio.cache_hit_ratio

    @property
    def prompt_cache_key(self) -> str:
        return self.aio.prompt_cache_key

    @property
    def window(self) -> int:
        return self.aio.window

    @property
    def budget(self) -> int:
        return self.aio.budget

    @property
    def last_prompt_tokens(self) -> int:
        return self.aio.last_prompt_tokens

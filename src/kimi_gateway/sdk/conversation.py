"""A conversation that keeps its history within the model's context window.

Before each request the history is counted: Kimi's numbers where possible — the last reply's
``usage`` for what was already sent, Kimi's estimate endpoint (docs/kimi.md §11, via
``Engine.count_tokens``) when the total comes near the budget — and the local estimate
(compaction.py) where Kimi has none (Kimi Code) or cannot be reached. The budget is the context
window (the model's profile, or ``context_window=``) less the tokens reserved for the reply,
which every request also sends as ``max_tokens``, so prompt plus reply can never pass the window.

Over budget, the oldest turns are summarised by the model into one system message after the
pinned system messages, and dropped; turns begin at user messages, so a tool call and its
result are never separated. The newest turn always stays whole.

One ``prompt_cache_key`` for the conversation's life (docs/kimi.md §12: it raises the cache hit
rate); :attr:`AsyncConversation.cache_hit_ratio` reports cached input over all input.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.usage import Usage
from kimi_gateway.sdk.compaction import (
    Message,
    chunks_within,
    estimate_messages,
    estimate_text,
    split_turns,
    transcript,
    turns_to_drop,
)
from kimi_gateway.sdk.models import model_info
from kimi_gateway.sdk.results import ChatResult
from kimi_gateway.sdk.toolloop import RunResult, add_usage

if TYPE_CHECKING:
    from kimi_gateway.sdk.client import AsyncKimi, ToolLike

DEFAULT_WINDOW = 131072  # a model the profiles do not know: the smallest current window (§4.1)
EXACT_ABOVE = 0.7  # count with Kimi's estimate endpoint once the rough count passes this share
TARGET_AFTER = 0.6  # after summarising, aim for this share of the budget (room to grow)
SUMMARY_PROMPT = (
    "You condense conversations. Write a summary of the conversation below that keeps every "
    "fact, decision, name, number, open question and result of a tool call that later "
    "messages may need. Write it as notes, not as a dialogue."
)
SUMMARY_HEAD = "Summary of the earlier part of this conversation:\n"


class AsyncConversation:
    def __init__(
        self,
        client: AsyncKimi,
        *,
        model: str | None = None,
        system: str | None = None,
        messages: Sequence[Message] = (),
        context_window: int | None = None,
        reserve_tokens: int | None = None,
        summary_tokens: int = 1024,
        prompt_cache_key: str | None = None,
        **options: Any,
    ) -> None:
        self._client = client
        self.model = model or client.default_model
        info = model_info(self.model, client.backend.product_of(self.model))
        self.window = context_window or info.context_window or DEFAULT_WINDOW
        self.reserve = reserve_tokens or min(self.window // 4, 32768)
        if self.reserve >= self.window:
            raise ValueError("reserve_tokens must be smaller than the context window")
        self.summary_tokens = min(summary_tokens, self.budget // 4)
        self._switchable = info.thinking == "switchable"
        self.prompt_cache_key = prompt_cache_key or f"kimi-conversation-{uuid.uuid4().hex}"
        self.options = options
        self.pinned: list[Message] = [{"role": "system", "content": system}] if system else []
        self.summary: str | None = None
        self.history: list[Message] = [dict(m) for m in messages]
        self.summaries = 0  # how many times older turns were summarised
        self.usage = Usage()  # summed over the conversation's own requests
        self.last_prompt_tokens = 0  # the input tokens of the last request (Kimi's count)
        self._sent_tokens = 0  # Kimi's count of what the last request sent plus its reply
        self._sent_messages = 0  # how many history messages that count covers

    @property
    def budget(self) -> int:
        """Input tokens a request may use: the window less the reply's reserve."""
        return self.window - self.reserve

    @property
    def messages(self) -> list[Message]:
        """What the next request sends (before the new message)."""
        summary = (
            [{"role": "system", "content": SUMMARY_HEAD + self.summary}] if self.summary else []
        )
        return [*self.pinned, *summary, *self.history]

    @property
    def cache_hit_ratio(self) -> float:
        """Input tokens served from Kimi's cache over all input tokens sent (0 before any)."""
        total = self.usage.input_total
        return self.usage.input_cache_read / total if total else 0.0

    def _request_options(self, options: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.options, **options}
        merged.setdefault("prompt_cache_key", self.prompt_cache_key)
        merged["max_tokens"] = min(merged.get("max_tokens") or self.reserve, self.reserve)
        return merged

    async def say(self, content: Any, **options: Any) -> ChatResult:
        """Send a user message (text or content parts) and return the reply."""
        return await self.send({"role": "user", "content": content}, **options)

    async def send(self, message: Message, **options: Any) -> ChatResult:
        """Append any message, fit the history to the budget, and ask for the next reply."""
        self.history.append(dict(message))
        await self.fit()
        result: ChatResult = await self._client.chat(
            self.messages, model=self.model, **self._request_options(options)
        )
        self.history.append(result.message)
        self._counted(result.usage)
        return result

    async def run_tools(
        self, content: Any, *, tools: Sequence[ToolLike], **options: Any
    ) -> RunResult:
        """Send a user message and run the tool loop on it (client.run_tools); the whole run
        joins the history as one turn."""
        self.history.append({"role": "user", "content": content})
        await self.fit()
        sent = self.messages
        run = await self._client.run_tools(
            sent, tools=tools, model=self.model, **self._request_options(options)
        )
        self.history.extend(run.messages[len(sent) :])
        self._counted(run.steps[-1].result.usage, run.usage)
        return run

    def _counted(self, last: Usage, total: Usage | None = None) -> None:
        self.usage = add_usage(self.usage, total or last)
        self.last_prompt_tokens = last.input_total
        self._sent_tokens = last.input_total + last.output
        self._sent_messages = len(self.history)

    async def count(self) -> int:
        """The input tokens the next request would send (see the module docstring)."""
        messages = self.messages
        rough = self._rough(messages)
        if rough < EXACT_ABOVE * self.budget:
            return rough
        try:
            return await self._client.count_tokens(messages, model=self.model)
        except GatewayError:  # Kimi Code has no estimate endpoint; or it is unreachable
            return estimate_messages(messages)

    def _rough(self, messages: list[Message]) -> int:
        """Kimi's count of what was sent (when nothing was summarised since) plus the local
        estimate of what is new; else the local estimate of everything."""
        if self._sent_messages and self._sent_messages <= len(self.history):
            new = self.history[self._sent_messages :]
            return self._sent_tokens + estimate_messages(new)
        return estimate_messages(messages)

    async def fit(self) -> None:
        """Summarise older turns until the next request fits the budget."""
        counted = await self.count()
        if counted <= self.budget:
            return
        turns = split_turns(self.history)
        # Local sizes, scaled to Kimi's count of the whole, to choose how many turns go.
        scale = counted / max(estimate_messages(self.messages), 1)
        sizes = [int(estimate_messages(turn) * scale) for turn in turns]
        fixed = int(estimate_messages(self.pinned) * scale) + self.summary_tokens
        keep_from = turns_to_drop(sizes, fixed, int(TARGET_AFTER * self.budget))
        if keep_from == 0:
            raise GatewayError(
                "invalid_request",
                f"the newest message alone needs more than the {self.budget} input tokens "
                f"{self.model!r} leaves after reserving {self.reserve} for the reply",
            )
        await self._summarise(turns[:keep_from])
        self.history = [m for turn in turns[keep_from:] for m in turn]
        self._sent_messages = 0
        if await self.count() > self.budget:
            raise GatewayError(
                "invalid_request",
                f"the conversation does not fit in {self.budget} input tokens even after "
                "summarising every earlier turn",
            )

    async def _summarise(self, turns: list[list[Message]]) -> None:
        # Each summary request: the instructions, the summary so far, and a group of turns.
        limit = max(self.budget - self.summary_tokens - 512, self.budget // 2)
        for group in chunks_within(turns, max(limit - self.summary_tokens, limit // 2)):
            previous = f"{SUMMARY_HEAD}{self.summary}\n\n" if self.summary else ""
            text = _clip(previous + transcript(group), limit)
            result = await self._client.chat(
                [{"role": "system", "content": SUMMARY_PROMPT}, {"role": "user", "content": text}],
                **self._summary_options(),
            )
            self.usage = add_usage(self.usage, result.usage)
            self.summary = result.text.strip() or self.summary or "(nothing to keep)"
        self.summaries += 1

    def _summary_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.summary_tokens,
            "prompt_cache_key": self.prompt_cache_key,
        }
        if self._switchable:  # the summary's tokens should go to the summary, not reasoning
            options["thinking"] = {"type": "disabled"}
        return options


def _clip(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` estimated tokens, keeping its start and its end."""
    tokens = estimate_text(text)
    if tokens <= limit:
        return text
    keep = int(len(text) * limit / tokens / 2)
    return f"{text[:keep]}\n[… earlier part left out …]\n{text[-keep:]}"

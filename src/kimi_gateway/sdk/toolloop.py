"""The tool-calling loop with guardrails: ask, run the calls the model asked for (concurrently),
send the results back, until the model answers without tools.

Guardrails:
- ``max_steps`` model turns that may call tools; when they are spent, one more turn with tools
  off (``tool_choice: "none"``) and an instruction to answer now: the run always ends in an
  answer, never in a pending call.
- Repeated identical calls (same tool, same arguments, anywhere in the run): Moonshot suggests a
  ``<system-reminder>`` nudge after 3, 5 and 8 repeats (docs/kimi.md §8.2; §F2.16: K2.6 calling
  Read forever); here the nudges come at :attr:`RepeatPolicy.nudge_at` and at ``stop_at`` the
  call is not run, and the loop moves on to the forced final answer.
- Arguments are validated before any handler runs, handlers have timeouts, exceptions become
  tool errors (toolcall.py), and every call is audited.
- Each assistant turn goes back into the history as Kimi sent it (``ChatResult.message``):
  ``reasoning_content`` kept when thinking is on (§8.3), arguments byte-exact (§8.5).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from kimi_gateway.core.usage import Usage
from kimi_gateway.sdk.results import ChatResult, ToolCall
from kimi_gateway.sdk.toolcall import ToolAudit, not_run, run_call
from kimi_gateway.sdk.tools import Tool

log = logging.getLogger("kimi_gateway.sdk.tools")

ChatFn = Callable[..., Awaitable[ChatResult]]
Stopped = Literal["answered", "max_steps", "repeated_calls"]

NUDGE_TEXT = (
    "<system-reminder>You have called {name} with the same arguments {count} times. Do not "
    "call it again with these arguments: use the results you already have, try a different "
    "approach, or give your final answer.</system-reminder>"
)
FINAL_TEXT = (
    "You have used all the tool calls allowed for this task. Do not call any more tools: "
    "answer now with the information you already have, and say what is still unknown."
)
REPEAT_NOT_RUN = (
    "Not run: {name} was called with these same arguments {count} times. No more tool calls "
    "will be run; answer with the information you already have."
)


@dataclass(frozen=True, slots=True)
class RepeatPolicy:
    """When an identical call counts as a loop: nudges at these repeat counts, stop at
    ``stop_at`` (docs/kimi.md §8.2: Moonshot nudges after 3, 5 and 8 repeats)."""

    nudge_at: tuple[int, ...] = (3, 5)
    stop_at: int = 8
    nudge_text: str = NUDGE_TEXT


@dataclass(frozen=True, slots=True)
class Step:
    """One model turn of the run and the tool calls it made."""

    index: int
    result: ChatResult
    calls: tuple[ToolAudit, ...]


@dataclass(frozen=True, slots=True)
class RunResult:
    text: str
    reasoning: str | None
    steps: tuple[Step, ...]
    tool_calls: tuple[ToolCall, ...]  # every call the model asked for, in order
    audit: tuple[ToolAudit, ...]  # what came of each
    messages: tuple[dict[str, Any], ...]  # the whole history, the final answer last
    stopped: Stopped  # why the run ended
    usage: Usage = field(default_factory=Usage)  # summed over every model turn


def _key(call: ToolCall) -> tuple[str, str]:
    """Identity of a call: its name and its arguments with key order ignored."""
    try:
        canonical = orjson.dumps(orjson.loads(call.arguments), option=orjson.OPT_SORT_KEYS)
        return call.name, canonical.decode()
    except orjson.JSONDecodeError:
        return call.name, call.arguments


def add_usage(a: Usage, b: Usage) -> Usage:
    return Usage(
        a.input_uncached + b.input_uncached,
        a.input_cache_read + b.input_cache_read,
        a.input_cache_write + b.input_cache_write,
        a.output + b.output,
        a.reasoning + b.reasoning,
    )


class ToolLoop:
    def __init__(
        self,
        chat: ChatFn,
        tools: Sequence[Tool],
        *,
        max_steps: int,
        repeat: RepeatPolicy,
        tool_timeout: float | None,
        on_call: Callable[[ToolAudit], None] | None,
    ) -> None:
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self.chat = chat
        self.tools = {tool.name: tool for tool in tools}
        self.specs = [tool.spec() for tool in tools]
        self.max_steps = max_steps
        self.repeat = repeat
        self.tool_timeout = tool_timeout
        self.on_call = on_call
        self.counts: Counter[tuple[str, str]] = Counter()
        self.steps: list[Step] = []
        self.history: list[dict[str, Any]] = []

    async def run(self, messages: Sequence[dict[str, Any]], options: dict[str, Any]) -> RunResult:
        self.history = list(messages)
        for index in range(self.max_steps):
            result = await self.chat(messages=self.history, tools=self.specs, **options)
            self.history.append(result.message)
            if not result.tool_calls:
                self.steps.append(Step(index, result, ()))
                return self._result(result, "answered")
            stop = await self._answer_calls(index, result)
            if stop:
                return await self._final(options, "repeated_calls")
        return await self._final(options, "max_steps")

    async def _answer_calls(self, index: int, result: ChatResult) -> bool:
        """Run (or refuse) this turn's calls, add their results and any nudge to the history;
        whether a call repeated often enough to stop the run."""
        counts = []
        for call in result.tool_calls:
            self.counts[_key(call)] += 1
            counts.append(self.counts[_key(call)])
        stop = any(count >= self.repeat.stop_at for count in counts)
        runs = [
            self._refuse(index, call, count)
            if stop
            else run_call(index, call, self.tools, self.tool_timeout)
            for call, count in zip(result.tool_calls, counts, strict=True)
        ]
        audits = tuple(await asyncio.gather(*runs))
        self.steps.append(Step(index, result, audits))
        for audit in audits:
            self._record(audit)
            self.history.append(audit.message())
        nudges = [
            self.repeat.nudge_text.format(name=call.name, count=count)
            for call, count in zip(result.tool_calls, counts, strict=True)
            if count in self.repeat.nudge_at
        ]
        if nudges and not stop:
            self.history.append({"role": "user", "content": "\n".join(dict.fromkeys(nudges))})
        return stop

    async def _refuse(self, index: int, call: ToolCall, count: int) -> ToolAudit:
        text = REPEAT_NOT_RUN.format(name=call.name, count=count)
        return not_run(index, call, "repeated", text, text)

    def _record(self, audit: ToolAudit) -> None:
        log.info(
            "tool call %s %s: %s in %.3f s",
            audit.name,
            audit.arguments,
            audit.outcome,
            audit.duration,
        )
        if self.on_call is not None:
            self.on_call(audit)

    async def _final(self, options: dict[str, Any], why: Stopped) -> RunResult:
        """One more turn with tools off, told to answer now."""
        self.history.append({"role": "user", "content": FINAL_TEXT})
        final_options = {**options, "tool_choice": "none"}
        result = await self.chat(messages=self.history, tools=self.specs, **final_options)
        # A call here could never be answered: the final turn is text only.
        result = dataclasses.replace(result, tool_calls=())
        message = result.message
        if not message.get("content"):
            message["content"] = " "
        self.history.append(message)
        self.steps.append(Step(len(self.steps), result, ()))
        return self._result(result, why)

    def _result(self, last: ChatResult, why: Stopped) -> RunResult:
        usage = Usage()
        for step in self.steps:
            usage = add_usage(usage, step.result.usage)
        return RunResult(
            text=last.text,
            reasoning=last.reasoning,
            steps=tuple(self.steps),
            tool_calls=tuple(c for s in self.steps for c in s.result.tool_calls),
            audit=tuple(a for s in self.steps for a in s.calls),
            messages=tuple(self.history),
            stopped=why,
            usage=usage,
        )

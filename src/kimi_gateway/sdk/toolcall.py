"""Running one tool call the model asked for, with its guardrails, and recording it.

In order: Kimi's built-in ``$web_search`` is answered by echoing its arguments back byte for
byte (docs/kimi.md §8.5: Kimi runs the search itself on the next request); an unknown tool name
and arguments that do not match the tool's schema are answered with an error the model can read
(the function is never called); then the handler runs under its timeout (a sync handler in a
worker thread, so the calls of one step run concurrently). An exception becomes a tool error.
Every call, whatever its outcome, leaves one :class:`ToolAudit`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel

from kimi_gateway.sdk.results import ToolCall
from kimi_gateway.sdk.tools import Tool

Outcome = Literal[
    "ok",  # the handler returned
    "error",  # the handler raised
    "timeout",  # the handler did not finish within its timeout
    "invalid_arguments",  # the arguments did not match the schema; the handler was not called
    "unknown_tool",  # no tool of that name was offered
    "no_handler",  # a raw schema offered without a handler
    "builtin",  # a Kimi built-in ($web_search): arguments echoed back
    "repeated",  # not run: the same call repeated too often (the loop stops)
]


@dataclass(frozen=True, slots=True)
class ToolAudit:
    """One tool call as it happened: what the model asked, what came of it, and when."""

    step: int
    call_id: str
    name: str
    arguments: str  # the JSON text as the model sent it
    outcome: Outcome
    content: str  # what went back to the model as the tool result
    duration: float  # seconds (0 for calls never run)
    started: float  # time.time() when it started
    error: str | None = None  # the exception, validation or timeout message

    def message(self) -> dict[str, Any]:
        """The ``tool`` message that answers the call."""
        return {
            "role": "tool",
            "tool_call_id": self.call_id,
            "name": self.name,
            "content": self.content,
        }


def not_run(
    step: int, call: ToolCall, outcome: Outcome, content: str, error: str | None = None
) -> ToolAudit:
    """The audit of a call answered without running its handler."""
    return ToolAudit(
        step, call.id, call.name, call.arguments, outcome, content, 0.0, time.time(), error
    )


async def run_call(
    step: int, call: ToolCall, tools: Mapping[str, Tool], default_timeout: float | None
) -> ToolAudit:
    tool = tools.get(call.name)
    if tool is None:
        known = ", ".join(sorted(tools)) or "none"
        text = f"Error: there is no tool named {call.name!r} (available: {known})."
        return not_run(step, call, "unknown_tool", text, text)
    if tool.kind == "builtin_function":
        return not_run(step, call, "builtin", call.arguments)
    try:
        kwargs = tool.validate(call.arguments)
    except ValueError as exc:
        text = f"Error: invalid arguments for {call.name}: {exc}. Fix them and call it again."
        return not_run(step, call, "invalid_arguments", text, str(exc))
    if tool.handler is None:
        text = f"Error: the tool {call.name!r} cannot be run here (it has no handler)."
        return not_run(step, call, "no_handler", text, text)
    limit = tool.timeout if tool.timeout is not None else default_timeout
    return await _execute(step, call, tool, kwargs, limit)


async def _execute(
    step: int, call: ToolCall, tool: Tool, kwargs: dict[str, Any], limit: float | None
) -> ToolAudit:
    handler = tool.handler
    assert handler is not None
    started, clock = time.time(), time.perf_counter()
    outcome: Outcome = "ok"
    error: str | None = None
    try:
        if inspect.iscoroutinefunction(handler):
            value = await asyncio.wait_for(handler(**kwargs), limit)
        else:
            work = asyncio.to_thread(functools.partial(handler, **kwargs))
            value = await asyncio.wait_for(work, limit)
        content = render_result(value)
    except TimeoutError:
        outcome, error = "timeout", f"the tool did not finish within {limit:g} s"
        content = f"Error: {call.name} timed out: {error}."
    except Exception as exc:  # a tool's failure goes back to the model, not up the stack
        outcome, error = "error", f"{type(exc).__name__}: {exc}"
        content = f"Error: {call.name} failed: {error}"
    duration = time.perf_counter() - clock
    return ToolAudit(
        step, call.id, call.name, call.arguments, outcome, content, duration, started, error
    )


def render_result(value: Any) -> str:
    """A handler's return value as tool-result text: strings as they are, pydantic models and
    everything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return orjson.dumps(value, default=_fallback).decode()


def _fallback(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)

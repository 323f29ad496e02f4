"""A forced tool call stays forced (issue 9 item 4), and what the engine checks in a reply.

A client that forces a tool (OpenAI ``tool_choice: "required"`` or a named function, Anthropic
``any`` or ``{"type": "tool"}``) relies on the reply calling it: structured output in tool mode
(pydantic-ai, LangChain ``with_structured_output``) reads nothing else. Where Kimi cannot take
the choice as sent (with thinking on, docs/kimi.md §8.4, §F2.2) the quirk layer either turns
thinking off or drops the choice and nudges (upstreams/kimi/quirks_thinking.py
``resolve_forced_tool_choice``); either way Kimi may then answer in text. docs/kimi.md §18.1:
never let a forced call quietly become a text reply. So in exactly those cases the engine reads
the whole reply before anything reaches the client, and when it lacks the required call asks
again (``quirks.forced_tool_retries`` more times, with a user message saying what is needed),
then answers an error saying so. A stream is buffered for that: it is the only way to re-ask
before the first byte (a text reply may still end with the call), and a forced reply is short.
Requests Kimi takes as sent (k3, Kimi Code's ``any``, thinking off) are not touched.

Pure: the rules only; engine/guarded.py runs them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from kimi_gateway.core.events import Finish, PartStart, StreamError
from kimi_gateway.core.model import (
    Diagnostic,
    DialectName,
    Message,
    Request,
    Response,
    TextPart,
    ToolCallPart,
    ToolChoice,
)
from kimi_gateway.core.upstream import Batch
from kimi_gateway.engine.hidden_thinking import hides_thinking


@dataclasses.dataclass(frozen=True, slots=True)
class ReplyOptions:
    """What the engine guarantees about a reply (settings' ``quirks:`` section)."""

    show_unrequested_thinking: bool = False  # engine/hidden_thinking.py
    forced_tool_retries: int = 1  # extra attempts when a forced call is missing; 0: error at once
    forced_tool_reask_text: str = "You must call one of the tools now; answer with a tool call."
    forced_tool_reask_named_text: str = "You must call the {name} tool now; answer with that call."


def relaxed_choice(request: Request, diagnostics: Sequence[Diagnostic]) -> ToolChoice | None:
    """The client's forced tool_choice when the gateway could not send it as is (it nudged, or
    turned thinking off for it), else None."""
    choice = request.tool_choice
    if choice is None or choice.mode not in ("required", "tool"):
        return None
    for diagnostic in diagnostics:
        if diagnostic.code == "nudged_tool_choice":
            return choice
        if diagnostic.code == "changed_thinking" and "tool_choice" in diagnostic.detail:
            return choice
    return None


def needs_guard(
    request: Request,
    client: DialectName,
    diagnostics: Sequence[Diagnostic],
    options: ReplyOptions,
) -> bool:
    """Whether the reply must be checked (forced call) or filtered (thinking) at all."""
    if hides_thinking(request, client, options.show_unrequested_thinking):
        return True
    return options.forced_tool_retries >= 0 and relaxed_choice(request, diagnostics) is not None


def _describe(choice: ToolChoice) -> str:
    return f"the tool {choice.name!r}" if choice.mode == "tool" else "a tool"


def calls_required(names: Sequence[str], choice: ToolChoice) -> bool:
    """Whether tool calls named ``names`` satisfy ``choice``."""
    if choice.mode == "tool":
        return choice.name is not None and choice.name in names
    return bool(names)


_CUT = ("max_tokens", "stop_sequence")  # a reply ended where the client's limits said


def settled(batches: Sequence[Batch] | None, response: Response | None, choice: ToolChoice) -> bool:
    """Whether a whole reply (its batches, or one body) may go to the client as it is: it has
    the required call, failed (the error is the answer), or was cut by max_tokens or a stop
    sequence of the client's (re-asking would be cut again; the client's API ends it there)."""
    if response is not None:
        called = [p.name for p in response.parts if isinstance(p, ToolCallPart)]
        return response.stop_reason in _CUT or calls_required(called, choice)
    names: list[str] = []
    for batch in batches or ():
        for event in batch:
            if isinstance(event, StreamError):
                return True
            if isinstance(event, Finish) and event.stop_reason in _CUT:
                return True
            if isinstance(event, PartStart) and event.kind == "tool_call":
                names.append(event.tool_name or "")
    return calls_required(names, choice)


def reask(request: Request, choice: ToolChoice, options: ReplyOptions) -> Request:
    """``request`` again, with a user message saying a tool call is required."""
    if choice.mode == "tool" and choice.name is not None:
        text = options.forced_tool_reask_named_text.replace("{name}", choice.name)
    else:
        text = options.forced_tool_reask_text
    return dataclasses.replace(
        request, messages=(*request.messages, Message("user", (TextPart(text),)))
    )


def reasked(choice: ToolChoice, attempt: int) -> Diagnostic:
    detail = f"the reply did not call {_describe(choice)}; asked again (attempt {attempt + 1})"
    return Diagnostic("reasked_forced_tool", detail)


def missing_call_message(choice: ToolChoice, attempts: int) -> str:
    return (
        f"tool_choice requires {_describe(choice)}, and the model answered without calling it "
        f"{attempts} time(s). Kimi does not take a forced tool_choice for this model as sent "
        "(with thinking on, or at all), so the gateway turned thinking off or asked for the "
        "call in a message; retry the request, or send tool_choice auto and read the text reply"
    )

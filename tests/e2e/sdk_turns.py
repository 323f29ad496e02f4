"""One assistant turn through the official SDKs, reduced to the same plain record whether it
was streamed or not, sync or async, OpenAI or Anthropic: so a test asserts one whole value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai
import orjson


@dataclass
class Turn:
    text: str
    reasoning: str
    tool_calls: list[tuple[str, str]]  # (name, arguments JSON text, compacted)
    stop: str | None
    model: str
    tool_ids: list[str] = field(default_factory=list)
    raw_assistant: Any = None  # what to send back as the assistant message next turn
    input_tokens: int = 0
    output_tokens: int = 0

    def key(self) -> tuple[str, str, list[tuple[str, str]], str | None, str]:
        return self.text, self.reasoning, self.tool_calls, self.stop, self.model


def _compact(arguments: str | dict[str, Any]) -> str:
    value = orjson.loads(arguments) if isinstance(arguments, str) else arguments
    return orjson.dumps(value).decode()


# --- OpenAI ---------------------------------------------------------------------------------


def openai_from_completion(reply: Any) -> Turn:
    message = reply.choices[0].message
    extra = message.model_extra or {}
    calls = message.tool_calls or []
    raw: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if extra.get("reasoning_content"):
        raw["reasoning_content"] = extra["reasoning_content"]
    if calls:
        raw["tool_calls"] = [c.model_dump() for c in calls]
    return Turn(
        text=message.content or "",
        reasoning=extra.get("reasoning_content") or "",
        tool_calls=[(c.function.name, _compact(c.function.arguments)) for c in calls],
        stop=reply.choices[0].finish_reason,
        model=reply.model,
        tool_ids=[c.id for c in calls],
        raw_assistant=raw,
        input_tokens=reply.usage.prompt_tokens,
        output_tokens=reply.usage.completion_tokens,
    )


class OpenAIStreamFold:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.stop: str | None = None
        self.model = ""
        self.usage: Any = None

    def feed(self, chunk: Any) -> None:
        self.model = chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                self.text.append(delta.content)
            reasoning = (delta.model_extra or {}).get("reasoning_content")
            if reasoning:
                self.reasoning.append(reasoning)
            for call in delta.tool_calls or []:
                slot = self.calls.setdefault(call.index, {"id": "", "name": "", "args": ""})
                slot["id"] = call.id or slot["id"]
                if call.function is not None:
                    slot["name"] = call.function.name or slot["name"]
                    slot["args"] += call.function.arguments or ""
            if choice.finish_reason:
                self.stop = choice.finish_reason

    def turn(self) -> Turn:
        calls = [self.calls[i] for i in sorted(self.calls)]
        raw: dict[str, Any] = {"role": "assistant", "content": "".join(self.text)}
        if self.reasoning:
            raw["reasoning_content"] = "".join(self.reasoning)
        if calls:
            raw["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["args"]},
                }
                for c in calls
            ]
        return Turn(
            text="".join(self.text),
            reasoning="".join(self.reasoning),
            tool_calls=[(c["name"], _compact(c["args"])) for c in calls],
            stop=self.stop,
            model=self.model,
            tool_ids=[c["id"] for c in calls],
            raw_assistant=raw,
            input_tokens=self.usage.prompt_tokens if self.usage else 0,
            output_tokens=self.usage.completion_tokens if self.usage else 0,
        )


def openai_turn(client: openai.OpenAI, stream: bool, **kwargs: Any) -> Turn:
    if not stream:
        return openai_from_completion(client.chat.completions.create(**kwargs))
    fold = OpenAIStreamFold()
    for chunk in client.chat.completions.create(
        stream=True, stream_options={"include_usage": True}, **kwargs
    ):
        fold.feed(chunk)
    return fold.turn()


async def openai_turn_async(client: openai.AsyncOpenAI, stream: bool, **kwargs: Any) -> Turn:
    if not stream:
        return openai_from_completion(await client.chat.completions.create(**kwargs))
    fold = OpenAIStreamFold()
    chunks = await client.chat.completions.create(
        stream=True, stream_options={"include_usage": True}, **kwargs
    )
    async for chunk in chunks:
        fold.feed(chunk)
    return fold.turn()


# --- Anthropic ------------------------------------------------------------------------------


def anthropic_from_message(message: Any) -> Turn:
    text = "".join(b.text for b in message.content if b.type == "text")
    reasoning = "".join(b.thinking for b in message.content if b.type == "thinking")
    uses = [b for b in message.content if b.type == "tool_use"]
    return Turn(
        text=text,
        reasoning=reasoning,
        tool_calls=[(b.name, _compact(b.input)) for b in uses],
        stop=message.stop_reason,
        model=message.model,
        tool_ids=[b.id for b in uses],
        raw_assistant={
            "role": "assistant",
            "content": [b.model_dump(exclude_none=True) for b in message.content],
        },
        input_tokens=message.usage.input_tokens + (message.usage.cache_read_input_tokens or 0),
        output_tokens=message.usage.output_tokens,
    )


def anthropic_turn(client: anthropic.Anthropic, stream: bool, **kwargs: Any) -> Turn:
    if not stream:
        return anthropic_from_message(client.messages.create(**kwargs))
    with client.messages.stream(**kwargs) as events:
        streamed = "".join(events.text_stream)
        final = events.get_final_message()
    turn = anthropic_from_message(final)
    assert streamed == turn.text
    return turn


async def anthropic_turn_async(
    client: anthropic.AsyncAnthropic, stream: bool, **kwargs: Any
) -> Turn:
    if not stream:
        return anthropic_from_message(await client.messages.create(**kwargs))
    async with client.messages.stream(**kwargs) as events:
        streamed = "".join([piece async for piece in events.text_stream])
        final = await events.get_final_message()
    turn = anthropic_from_message(final)
    assert streamed == turn.text
    return turn

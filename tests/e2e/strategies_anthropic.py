"""Anthropic Messages bodies valid per Anthropic's API reference: any model of the gateway
(Claude names too), ``max_tokens``, sampling in Anthropic's ranges, ``thinking`` with the
constraints Anthropic puts on it (budget ≥ 1024 and below ``max_tokens``; no ``temperature`` but
1, ``top_p`` ≥ 0.95, no forced tool choice), tools with schemas, every ``tool_choice``, images, and
histories from Claude: signed and redacted thinking blocks Kimi never signed, ``toolu_…`` ids,
tool results with blocks and ``is_error``, string or block system prompts."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from request_strategies import (
    ANTHROPIC_MODELS,
    PNG,
    arguments,
    claude_signatures,
    ids_anthropic,
    ids_openai,
    names,
    parameter_schemas,
    takes_images,
    texts,
    words,
)

Body = dict[str, Any]
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}


def _text(text: str) -> Body:
    return {"type": "text", "text": text}


def _user_content(images: bool) -> st.SearchStrategy[Any]:
    parts = st.builds(_text, texts)
    if images:
        parts = parts | st.just(IMAGE)
    return texts | st.lists(parts, min_size=1, max_size=3).map(lambda ps: [_text("Look."), *ps])


@st.composite
def _thinking_blocks(draw: st.DrawFn) -> list[Body]:
    """What Claude left in a turn: signed thinking (Kimi did not sign it) or redacted."""
    kind = draw(st.sampled_from(["none", "signed", "redacted", "both"]))
    blocks: list[Body] = []
    if kind in ("signed", "both"):
        blocks.append(
            {"type": "thinking", "thinking": draw(words), "signature": draw(claude_signatures)}
        )
    if kind in ("redacted", "both"):
        blocks.append({"type": "redacted_thinking", "data": draw(claude_signatures)})
    return blocks


@st.composite
def _tool_turn(draw: st.DrawFn, tool_names: list[str], thinking: bool) -> list[Body]:
    count = draw(st.integers(1, 3))
    ids = draw(st.lists(ids_anthropic | ids_openai, min_size=count, max_size=count, unique=True))
    blocks = draw(_thinking_blocks())
    if thinking and not blocks:  # Anthropic: a thinking turn's tool use opens with thinking
        blocks = [
            {"type": "thinking", "thinking": "Let me see.", "signature": draw(claude_signatures)}
        ]
    if draw(st.booleans()):
        blocks.append(_text(draw(texts)))
    for call_id in ids:
        name = draw(st.sampled_from(tool_names))
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": draw(arguments())})
    results: list[Body] = []
    for call_id in ids:
        result: Body = {"type": "tool_result", "tool_use_id": call_id}
        shape = draw(st.sampled_from(["string", "blocks", "absent"]))
        if shape == "string":
            result["content"] = draw(texts)
        elif shape == "blocks":
            result["content"] = [_text(draw(texts))]
        if draw(st.integers(0, 4)) == 0:
            result["is_error"] = True
        results.append(result)
    if draw(st.booleans()):
        results.append(_text(draw(texts)))
    return [{"role": "assistant", "content": blocks}, {"role": "user", "content": results}]


@st.composite
def _messages(draw: st.DrawFn, images: bool, tool_names: list[str], thinking: bool) -> list[Body]:
    messages: list[Body] = []
    for _ in range(draw(st.integers(0, 3))):
        messages.append({"role": "user", "content": draw(_user_content(images))})
        if bool(tool_names) and draw(st.booleans()):
            messages.extend(draw(_tool_turn(tool_names, thinking)))
            messages.append({"role": "assistant", "content": draw(texts)})
            continue
        reply = [*draw(_thinking_blocks()), _text(draw(texts))]
        messages.append({"role": "assistant", "content": draw(st.just(reply) | texts)})
    if bool(tool_names) and draw(st.booleans()):
        messages.append({"role": "user", "content": draw(texts)})
        messages.extend(draw(_tool_turn(tool_names, thinking)))
    else:
        messages.append({"role": "user", "content": draw(_user_content(images))})
    return messages


@st.composite
def _tools(draw: st.DrawFn, body: Body, thinking: bool) -> list[str]:
    if draw(st.integers(0, 2)) == 0:
        return []
    tool_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    tools = []
    for name in tool_names:
        tool: Body = {"name": name, "input_schema": draw(parameter_schemas)}
        if draw(st.booleans()):
            tool["description"] = draw(words)
        tools.append(tool)
    body["tools"] = tools
    kinds = ["absent", "auto", "none"] if thinking else ["absent", "auto", "none", "any", "tool"]
    kind = draw(st.sampled_from(kinds))
    if kind != "absent":
        choice: Body = {"type": kind}
        if kind == "tool":
            choice["name"] = draw(st.sampled_from(tool_names))
        if kind != "none" and draw(st.booleans()):
            choice["disable_parallel_tool_use"] = draw(st.booleans())
        body["tool_choice"] = choice
    return tool_names


def _system() -> st.SearchStrategy[Any]:
    blocks = st.lists(st.builds(_text, texts), min_size=1, max_size=2)
    cached = st.builds(lambda t: [{**_text(t), "cache_control": {"type": "ephemeral"}}], texts)
    return texts | blocks | cached


@st.composite
def _sampling(draw: st.DrawFn, body: Body, thinking: bool) -> None:
    if thinking:
        if draw(st.booleans()):
            body["temperature"] = 1
        if draw(st.booleans()):
            body["top_p"] = draw(st.floats(0.95, 1))
    else:
        options = {
            "temperature": st.floats(0, 1) | st.sampled_from([0, 1]),
            "top_p": st.floats(0, 1),
            "top_k": st.integers(1, 500),
        }
        for key in draw(st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True)):
            body[key] = draw(options[key])
    if draw(st.integers(0, 3)) == 0:
        body["stop_sequences"] = draw(st.lists(words, min_size=1, max_size=6))


@st.composite
def messages_bodies(draw: st.DrawFn) -> Body:
    model = draw(st.sampled_from(ANTHROPIC_MODELS))
    thinking_kind = draw(st.sampled_from(["absent", "absent", "enabled", "disabled"]))
    thinking = thinking_kind == "enabled"
    max_tokens = draw(st.integers(1025 if thinking else 1, 64_000))
    body: Body = {"model": model, "max_tokens": max_tokens}
    if thinking:
        body["thinking"] = {
            "type": "enabled",
            "budget_tokens": draw(st.integers(1024, max_tokens - 1)),
        }
    elif thinking_kind == "disabled":
        body["thinking"] = {"type": "disabled"}
    tool_names = draw(_tools(body, thinking))
    body["messages"] = draw(_messages(takes_images(model), tool_names, thinking))
    forced = body.get("tool_choice", {}).get("type") in ("any", "tool")
    if not thinking and not forced and draw(st.integers(0, 5)) == 0:  # a prefill
        body["messages"].append({"role": "assistant", "content": draw(words).rstrip()})
    if draw(st.booleans()):
        body["system"] = draw(_system())
    draw(_sampling(body, thinking))
    if draw(st.integers(0, 3)) == 0:
        body["metadata"] = {"user_id": draw(words)}
    body["stream"] = draw(st.integers(0, 3)) == 0
    return body

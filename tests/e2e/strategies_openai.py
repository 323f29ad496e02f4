"""OpenAI Chat Completions bodies valid per OpenAI's API reference: any model of the gateway,
sampling options in OpenAI's documented ranges, tools or legacy functions with schemas, every
``tool_choice``, ``response_format``, images, ``reasoning_effort``, and histories as other
clients and providers write them (``developer`` and mid-conversation ``system`` messages, empty
text parts, ``reasoning_content``, ``call_…``/``toolu_…``/Kimi call ids)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from request_strategies import (
    DATA_URL,
    MODELS,
    arguments,
    call_ids,
    dumps,
    names,
    parameter_schemas,
    strict_schemas,
    takes_images,
    texts,
    tool_results,
    words,
)

Body = dict[str, Any]


def _user_content(images: bool) -> st.SearchStrategy[Any]:
    parts = [st.builds(lambda t: {"type": "text", "text": t}, texts | st.just(""))]
    if images:
        parts.append(st.just({"type": "image_url", "image_url": {"url": DATA_URL}}))
        parts.append(
            st.sampled_from(["low", "high", "auto"]).map(
                lambda d: {"type": "image_url", "image_url": {"url": DATA_URL, "detail": d}}
            )
        )
    listed = st.lists(st.one_of(parts), min_size=1, max_size=3)
    if images:  # at least one non-empty text part beside images
        listed = listed.map(lambda ps: [{"type": "text", "text": "Describe it."}, *ps])
    return texts | listed


@st.composite
def _tool_turn(draw: st.DrawFn, tool_names: list[str], legacy: bool) -> list[Body]:
    """An assistant turn that calls tools (or a legacy function) and the results."""
    content = draw(st.none() | st.just("") | words)
    reasoning = draw(st.none() | words)
    if legacy:
        name = draw(st.sampled_from(tool_names))
        call = {"name": name, "arguments": dumps(draw(arguments()))}
        assistant: Body = {"role": "assistant", "content": content, "function_call": call}
        return [assistant, {"role": "function", "name": name, "content": draw(tool_results)}]
    count = draw(st.integers(1, 3))
    ids = draw(st.lists(call_ids, min_size=count, max_size=count, unique=True))
    calls = [
        {
            "id": call_id,
            "type": "function",
            "function": {
                "name": draw(st.sampled_from(tool_names)),
                "arguments": dumps(draw(arguments())),
            },
        }
        for call_id in ids
    ]
    assistant = {"role": "assistant", "content": content, "tool_calls": calls}
    if reasoning is not None:
        assistant["reasoning_content"] = reasoning
    results = [{"role": "tool", "tool_call_id": i, "content": draw(tool_results)} for i in ids]
    return [assistant, *results]


@st.composite
def _history(draw: st.DrawFn, images: bool, tool_names: list[str], legacy: bool) -> list[Body]:
    messages: list[Body] = []
    opening = draw(st.sampled_from(["none", "system", "developer", "system-parts"]))
    if opening == "system-parts":
        messages.append({"role": "system", "content": [{"type": "text", "text": draw(texts)}]})
    elif opening != "none":
        messages.append({"role": opening, "content": draw(texts)})
    for _ in range(draw(st.integers(0, 3))):
        messages.append({"role": "user", "content": draw(_user_content(images))})
        kind = draw(st.sampled_from(["text", "reasoning", "tools", "system"]))
        if kind == "tools" and tool_names:
            messages.extend(draw(_tool_turn(tool_names, legacy)))
            continue
        reply: Body = {"role": "assistant", "content": draw(texts)}
        if kind == "reasoning":
            reply["reasoning_content"] = draw(words)
        messages.append(reply)
        if kind == "system":  # OpenAI takes system messages anywhere
            messages.append(
                {"role": draw(st.sampled_from(["system", "developer"])), "content": draw(texts)}
            )
    last = draw(st.sampled_from(["user", "tools"]))
    if last == "tools" and tool_names:
        messages.append({"role": "user", "content": draw(texts)})
        messages.extend(draw(_tool_turn(tool_names, legacy)))
    else:
        messages.append({"role": "user", "content": draw(_user_content(images))})
    return messages


def _tool(name: str, schema: Any, strict: bool | None, description: str | None) -> Body:
    function: Body = {"name": name, "parameters": schema}
    if description is not None:
        function["description"] = description
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


@st.composite
def _tools(draw: st.DrawFn, body: Body) -> list[str]:
    """Adds tools (or legacy functions) and a choice to ``body``; the names offered."""
    mode = draw(st.sampled_from(["none", "tools", "tools", "functions"]))
    if mode == "none":
        return []
    tool_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    if mode == "functions":
        body["functions"] = [{"name": n, "parameters": draw(parameter_schemas)} for n in tool_names]
        choice = draw(st.sampled_from(["absent", "auto", "none", "named"]))
        if choice == "named":
            body["function_call"] = {"name": draw(st.sampled_from(tool_names))}
        elif choice != "absent":
            body["function_call"] = choice
        return tool_names
    tools = []
    for name in tool_names:
        strict = draw(st.none() | st.booleans())
        schema = draw(strict_schemas if strict else parameter_schemas)
        tools.append(_tool(name, schema, strict, draw(st.none() | words)))
    body["tools"] = tools
    choice = draw(st.sampled_from(["absent", "auto", "none", "required", "named"]))
    if choice == "named":
        named = draw(st.sampled_from(tool_names))
        body["tool_choice"] = {"type": "function", "function": {"name": named}}
    elif choice != "absent":
        body["tool_choice"] = choice
    if draw(st.booleans()):
        body["parallel_tool_calls"] = draw(st.booleans())
    return tool_names


_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "temperature": st.floats(0, 2) | st.sampled_from([0, 1, 2]),
    "top_p": st.floats(0, 1) | st.sampled_from([0, 1]),
    "presence_penalty": st.floats(-2, 2),
    "frequency_penalty": st.floats(-2, 2),
    "n": st.integers(1, 4),
    "stop": words | st.lists(words, min_size=1, max_size=4),
    "max_tokens": st.integers(1, 200_000),
    "max_completion_tokens": st.integers(1, 200_000),
    "seed": st.integers(0, 2**31 - 1),
    "user": words,
    "reasoning_effort": st.sampled_from(["minimal", "low", "medium", "high"]),
    "logprobs": st.booleans(),
    "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
}


@st.composite
def _response_format(draw: st.DrawFn, messages: list[Body]) -> Body:
    kind = draw(st.sampled_from(["text", "json_object", "json_schema"]))
    if kind == "json_object":  # OpenAI asks for the word JSON in the conversation
        messages.append({"role": "user", "content": "Answer in JSON."})
        return {"type": "json_object"}
    if kind == "text":
        return {"type": "text"}
    strict = draw(st.none() | st.booleans())
    spec: Body = {
        "name": draw(names),
        "schema": draw(strict_schemas if strict else parameter_schemas),
    }
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


@st.composite
def chat_bodies(draw: st.DrawFn) -> Body:
    model = draw(st.sampled_from(MODELS))
    body: Body = {"model": model}
    tool_names = draw(_tools(body))
    legacy = "functions" in body
    body["messages"] = draw(_history(takes_images(model), tool_names, legacy))
    if "tool_choice" not in body and "function_call" not in body and draw(st.integers(0, 5)) == 0:
        body["messages"].append({"role": "assistant", "content": draw(words)})  # ends with it
    for key in draw(st.lists(st.sampled_from(sorted(_OPTIONS)), max_size=5, unique=True)):
        body[key] = draw(_OPTIONS[key])
    if "max_tokens" in body and "max_completion_tokens" in body:
        del body["max_tokens"]
    if body.get("logprobs"):
        body["top_logprobs"] = draw(st.integers(0, 5))
    if draw(st.integers(0, 3)) == 0:
        body["response_format"] = draw(_response_format(body["messages"]))
    body["stream"] = draw(st.integers(0, 3)) == 0
    if not body["stream"]:
        body.pop("stream_options", None)
    return body

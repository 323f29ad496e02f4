"""Hypothesis strategies for the openai_chat property tests: canonical requests, responses and
streams in the form a render → parse keeps exactly, and mutated request bodies (arbitrary JSON
is in wire_strategies.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kimi_gateway.core.events import (
    Done,
    Finish,
    MessageStart,
    PartEnd,
    PartStart,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolArgumentsDelta,
    UsageReport,
)
from kimi_gateway.core.model import (
    ImagePart,
    Message,
    OpaquePart,
    OpenAIChatFields,
    Part,
    Request,
    Response,
    TextPart,
    ThinkingConfig,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_chat import render_request

from .wire_strategies import json_values

# --- canonical round trips ----------------------------------------------------------------------

text = st.text(max_size=12)
names = st.text(
    st.characters(codec="utf-8", categories=["L", "N"]) | st.sampled_from("_-:$."),
    min_size=1,
    max_size=10,
)
json_objects = st.dictionaries(st.text(max_size=5), json_values, max_size=3)
images = st.one_of(
    st.builds(
        ImagePart,
        st.just("base64"),
        st.from_regex(r"[A-Za-z0-9+/=]{0,12}", fullmatch=True),
        st.sampled_from(["image/png", "image/jpeg"]),
        st.none() | st.sampled_from(["low", "high"]),
    ),
    st.builds(
        ImagePart,
        st.just("url"),
        st.from_regex(r"https://[a-z]{1,8}\.com/[a-z]{0,5}", fullmatch=True),
    ),
    st.builds(ImagePart, st.just("file"), names),
)
opaque = st.sampled_from(["video_url", "input_audio", "refusal"]).flatmap(
    lambda kind: json_objects.map(lambda data: OpaquePart(kind, {**data, "type": kind}))
)
content_parts = st.lists(st.builds(TextPart, text) | images | opaque, min_size=1, max_size=3)
tool_calls = st.builds(
    ToolCallPart, names, names, text, st.sampled_from(["function", "builtin_function"])
)
thinking_parts = st.builds(
    ThinkingPart,
    text,
    provider_data=st.none()
    | st.lists(json_objects, max_size=2).map(lambda d: {"reasoning_details": d}),
)
tool_results = st.builds(
    ToolResultPart,
    names,
    st.lists(st.builds(TextPart, st.text(min_size=1, max_size=8)) | images, max_size=2).map(tuple),
    name=st.none() | names,
)


@st.composite
def assistant_messages(draw: st.DrawFn) -> Message:
    parts: list[Part] = []
    if draw(st.booleans()):
        parts.append(draw(thinking_parts))
    calls = draw(st.lists(tool_calls, max_size=3))
    content = draw(
        st.lists(st.builds(TextPart, text) | opaque, min_size=0 if calls else 1, max_size=2)
    )
    return Message("assistant", (*parts, *content, *calls), draw(st.none() | names))


user_messages = st.builds(
    lambda parts, name: Message("user", tuple(parts), name), content_parts, st.none() | names
)
system_messages = st.builds(
    lambda parts, name: Message("system", tuple(parts), name), content_parts, names
)
tool_result_messages = st.lists(tool_results, min_size=1, max_size=3).map(
    lambda r: Message("user", tuple(r))
)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[Message, ...]:
    out: list[Message] = []
    for _ in range(draw(st.integers(1, 6))):
        choices = [user_messages, assistant_messages(), system_messages]
        if not out or not all(isinstance(p, ToolResultPart) for p in out[-1].parts):
            choices.append(tool_result_messages)
        out.append(draw(st.one_of(choices)))
    return tuple(out)


thinking_configs = st.builds(
    ThinkingConfig,
    st.sampled_from(["enabled", "disabled", "adaptive"]),
    st.none() | st.integers(0, 10**6),
    st.none() | st.sampled_from(["none", "low", "high", "max"]),
    st.none() | st.just("all"),
)
numbers = st.none() | st.floats(-2, 2, allow_nan=False) | st.integers(0, 2)
EXTRA_KEYS = st.sampled_from(
    ["seed", "logit_bias", "logprobs", "service_tier", "store", "vendor_x"]
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    messages = draw(conversations())
    tools = tuple(
        draw(
            st.lists(
                st.builds(
                    Tool,
                    names,
                    st.none() | text,
                    st.none() | json_objects,
                    st.sampled_from(["function", "builtin_function"]),
                    st.none() | st.booleans(),
                ),
                max_size=3,
            )
        )
    )
    choice = draw(
        st.none()
        | st.builds(
            ToolChoice,
            st.sampled_from(["auto", "none", "required"]),
            st.none(),
            st.none() | st.booleans(),
        )
        | st.builds(ToolChoice, st.just("tool"), names, st.none() | st.booleans())
    )
    if choice is not None and choice.mode == "auto" and choice.parallel is not None and not tools:
        choice = ToolChoice("auto")
    passthrough = draw(
        st.dictionaries(EXTRA_KEYS, json_values.filter(lambda v: v is not None), max_size=2)
    )
    partial = messages[-1].role == "assistant" and draw(st.booleans())
    own = OpenAIChatFields(partial=partial, passthrough=passthrough)
    stream = draw(st.booleans())
    system = tuple(draw(st.lists(st.builds(TextPart, text), max_size=2)))
    if not system and messages[0].role == "system" and messages[0].name is None:
        system = (TextPart("s"),)
    return Request(
        model=draw(names),
        messages=messages,
        system=system,
        tools=tools,
        tool_choice=choice,
        max_tokens=draw(st.none() | st.integers(0, 10**6)),
        temperature=draw(numbers),
        top_p=draw(numbers),
        n=draw(st.none() | st.integers(1, 5)),
        presence_penalty=draw(numbers),
        frequency_penalty=draw(numbers),
        stop=tuple(draw(st.lists(text, max_size=3))),
        stream=stream,
        include_usage=stream and draw(st.booleans()),
        thinking=draw(st.none() | thinking_configs),
        response_format=draw(st.none() | json_objects),
        metadata=draw(json_objects),
        user=draw(st.none() | text),
        prompt_cache_key=draw(st.none() | text),
        openai_chat=own if own != OpenAIChatFields() else None,
    )


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    """A valid rendered request with one or two values replaced or deleted: reaches deep."""
    body = render_request(draw(requests()))
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(paths(body)[1:] or [()]))
        if not path:
            return draw(json_values)
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return body


@st.composite
def responses(draw: st.DrawFn) -> Response:
    parts: list[Part] = []
    if draw(st.booleans()):
        parts.append(ThinkingPart(draw(text)))
    if draw(st.booleans()):
        parts.append(TextPart(draw(st.text(min_size=1, max_size=12))))
    parts.extend(draw(st.lists(st.builds(ToolCallPart, names, names, text), max_size=3)))
    counts = st.integers(0, 10**7)
    return Response(
        id=draw(text),
        model=draw(text),
        parts=tuple(parts),
        stop_reason=draw(
            st.sampled_from([None, "end_turn", "max_tokens", "tool_use", "content_filter"])
        ),
        usage=Usage(draw(counts), draw(counts), 0, draw(counts), draw(counts)),
        created=draw(st.integers(0, 2**40)),
    )


@st.composite
def streams(draw: st.DrawFn, *, kimi_order: bool) -> list[StreamEvent]:
    """Events of one reply. Kimi's order (§7.2, §7.3) is thinking?, text?, tool calls*; any
    order is what other upstreams (Anthropic interleaved thinking) may produce."""
    events: list[StreamEvent] = [MessageStart(draw(text), draw(text), draw(st.integers(0, 2**40)))]
    if kimi_order:
        kinds = [k for k in ("thinking", "text") if draw(st.booleans())]
        kinds += ["tool_call"] * draw(st.integers(0, 3))
    else:
        kinds = draw(st.lists(st.sampled_from(["thinking", "text", "tool_call"]), max_size=5))
    for index, kind in enumerate(kinds):
        pieces = draw(st.lists(st.text(min_size=1, max_size=6), max_size=3))
        if kind == "tool_call":
            events.append(
                PartStart(
                    index,
                    "tool_call",
                    draw(names),
                    draw(names),
                    draw(st.sampled_from(["function", "builtin_function"])),
                )
            )
            events.extend(ToolArgumentsDelta(index, p) for p in pieces)
        else:
            events.append(PartStart(index, kind))  # type: ignore[arg-type]
            delta = ThinkingDelta if kind == "thinking" else TextDelta
            events.extend(delta(index, p) for p in pieces)
        events.append(PartEnd(index))
    events.append(
        Finish(draw(st.sampled_from(["end_turn", "max_tokens", "tool_use", "content_filter"])))
    )
    counts = st.integers(0, 10**6)
    events.append(
        UsageReport(Usage(draw(counts), draw(counts), draw(counts), draw(counts), draw(counts)))
    )
    events.append(Done())
    return events

"""Hypothesis strategies for the openai_chat fuzz tests: arbitrary JSON, and request and reply
bodies shaped like the wire but filled with it (the canonical strategies are in strategies.py)."""

from __future__ import annotations

from hypothesis import strategies as st

# --- arbitrary JSON ---------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
REQUEST_KEYS = [
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "stream",
    "stream_options",
    "response_format",
    "thinking",
    "reasoning_effort",
    "metadata",
    "user",
    "prompt_cache_key",
    "seed",
]
MESSAGE_KEYS = [
    "role",
    "content",
    "name",
    "tool_calls",
    "tool_call_id",
    "reasoning_content",
    "reasoning",
    "reasoning_details",
    "partial",
    "refusal",
    "function_call",
]
roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function", "x"])
parts_json = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["text", "image_url", "video_url"]) | json_values},
        optional={
            "text": json_values,
            "image_url": json_values | st.just({"url": "data:a;base64,x"}),
        },
    ),
    max_size=3,
)
calls_json = st.lists(
    st.fixed_dictionaries(
        {
            "id": json_values,
            "function": json_values
            | st.fixed_dictionaries({}, optional={"name": json_values, "arguments": json_values}),
        },
        optional={"type": st.sampled_from(["function", "builtin_function"]) | json_values},
    ),
    max_size=2,
)
messages_json = st.lists(
    st.fixed_dictionaries(
        {"role": roles},
        optional={
            "content": json_values | parts_json,
            "tool_calls": calls_json | json_values,
            **{k: json_values for k in MESSAGE_KEYS if k not in ("role", "content", "tool_calls")},
        },
    ),
    max_size=4,
)
request_bodies = st.fixed_dictionaries(
    {"model": st.just("m") | json_values, "messages": messages_json | json_values},
    optional={k: json_values for k in REQUEST_KEYS if k not in ("model", "messages")},
)


response_bodies = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "model": json_values,
        "created": json_values,
        "usage": json_values,
        "choices": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "message": st.fixed_dictionaries(
                        {},
                        optional={
                            "content": json_values | parts_json,
                            "reasoning_content": json_values,
                            "reasoning_details": json_values,
                            "tool_calls": calls_json | json_values,
                            "refusal": json_values,
                        },
                    )
                    | json_values,
                    "finish_reason": json_values,
                    "usage": json_values,
                },
            ),
            max_size=2,
        )
        | json_values,
        "error": json_values,
    },
)

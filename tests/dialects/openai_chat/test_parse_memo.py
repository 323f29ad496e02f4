"""hypothesis: parsing a Chat Completions body with the message memo is the canonical parse
(issue 15 item 3). Random sessions (each turn the last one's messages plus new ones, sometimes
an edited or dropped message) parse to equal Requests, and raise the same errors, with the memo
as without: tool runs merged into one message, legacy ``function`` messages answering earlier
calls, a system message hoisted only at index 0, ``partial`` only on the last message."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.dialects.message_memo import MessageMemo
from kimi_gateway.dialects.openai_chat import parse_request

from ..upstream_bodies import same_bodies_with_the_memo
from .wire_strategies import messages_json

CALL = {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
TURN = st.one_of(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["system", "user", "developer"]),
            "content": st.sampled_from(["a", "ls"]),
        },
        optional={"name": st.just("n"), "extra": st.integers(0, 1)},
    ),
    st.fixed_dictionaries(
        {"role": st.just("assistant"), "content": st.sampled_from(["", "ok", None])},
        optional={
            "tool_calls": st.just([CALL]),
            "function_call": st.just({"name": "ls", "arguments": "{}"}),
            "partial": st.booleans(),
            "reasoning_content": st.just("think"),
        },
    ),
    st.fixed_dictionaries(
        {
            "role": st.just("tool"),
            "tool_call_id": st.just("c1"),
            "content": st.sampled_from(["", "x"]),
        }
    ),
    st.fixed_dictionaries(
        {"role": st.just("function"), "name": st.just("ls"), "content": st.just("x")}
    ),
)
ANY_MESSAGE = st.one_of(TURN, TURN, TURN, messages_json.map(lambda ms: ms[0] if ms else {}))
STEP = st.one_of(
    st.tuples(st.just("append"), st.lists(ANY_MESSAGE, min_size=1, max_size=3)),
    st.tuples(st.just("edit"), st.integers(0, 30), ANY_MESSAGE),
    st.tuples(st.just("drop_first"), st.integers(1, 3)),
)


def _outcome(body: dict[str, Any], memo: MessageMemo | None) -> Any:
    try:
        return ("ok", parse_request(body, memo=memo))
    except GatewayError as exc:
        return ("error", type(exc), exc.kind, str(exc), exc.param)


def _next(messages: list[Any], step: tuple[Any, ...]) -> list[Any]:
    if step[0] == "append":
        return [*messages, *step[1]]
    if step[0] == "edit" and messages:
        at = step[1] % len(messages)
        return [*messages[:at], step[2], *messages[at + 1 :]]
    return messages[step[1] :] if step[0] == "drop_first" else messages


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(ANY_MESSAGE, max_size=4),
    steps=st.lists(STEP, max_size=6),
    memo_bytes=st.sampled_from([2_000, 64 << 20]),
)
def test_a_session_parses_the_same_with_the_memo(
    first: list[Any], steps: list[tuple[Any, ...]], memo_bytes: int
) -> None:
    memo: MessageMemo = BytesLRU(memo_bytes)
    messages = first
    for step in [("append", []), *steps]:
        messages = _next(messages, step)
        body = orjson.loads(orjson.dumps({"model": "kimi-k2.6", "messages": messages}))
        assert _outcome(body, memo) == _outcome(body, None)
        assert _outcome(body, memo) == _outcome(body, None)  # now from the memo


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(ANY_MESSAGE, max_size=4),
    steps=st.lists(STEP, max_size=6),
    memo_bytes=st.sampled_from([2_000, 64 << 20]),
)
def test_a_session_builds_the_same_upstream_bodies_with_the_memo(
    first: list[Any], steps: list[tuple[Any, ...]], memo_bytes: int
) -> None:
    """What is derived from a memoised message, kept with it, is what a fresh parse derives
    (tests/dialects/upstream_bodies.py)."""
    same_bodies_with_the_memo(parse_request, first, steps, memo_bytes, _next)

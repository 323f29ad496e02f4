"""hypothesis: parsing with the message memo is the canonical parse (issue 15 item 3). Random
sessions (each turn the last one's messages plus new ones, sometimes an edited or dropped
message, as compaction does) parse to equal Requests, and raise the same errors, with the memo
as without; a small memo (evicting all the time) and a large one alike. Bodies reach the parser
decoded from JSON, as in the server."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.model import ToolCallPart
from kimi_gateway.dialects.anthropic_messages import parse_request
from kimi_gateway.dialects.message_memo import MessageMemo

from ..upstream_bodies import same_bodies_with_the_memo
from .test_anthropic_fuzz import MESSAGE

# Well-formed turns, some with a field the dialect notes as dropped (a diagnostic naming
# messages[i]), so that a message seen before at another index must not reuse its diagnostics.
TURN = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant"]),
        "content": st.lists(
            st.fixed_dictionaries(
                {"type": st.just("text"), "text": st.sampled_from(["a", "b", "ls"])},
                optional={"extra": st.integers(0, 2)},
            ),
            min_size=1,
            max_size=2,
        ),
    },
    optional={"name": st.just("n")},
)
ANY_MESSAGE = st.one_of(TURN, TURN, MESSAGE)
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


def _body(messages: list[Any]) -> dict[str, Any]:
    body = {"model": "kimi-k2.6", "max_tokens": 64, "messages": messages}
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(body))
    return decoded


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
        body = _body(messages)
        assert _outcome(body, memo) == _outcome(body, None)
        assert _outcome(body, memo) == _outcome(body, None)  # now from the memo


def test_a_resent_message_is_looked_up_not_parsed_again() -> None:
    memo: MessageMemo = BytesLRU(1 << 20)
    turn = [
        {"role": "user", "content": [{"type": "text", "text": "run ls", "extra": 1}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "ls", "input": {}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a"}]},
    ]
    first = parse_request(_body(turn), memo=memo)
    second = parse_request(_body([*turn, {"role": "assistant", "content": "done"}]), memo=memo)
    assert all(a is b for a, b in zip(first.messages, second.messages[:3], strict=True))
    assert second == parse_request(_body([*turn, {"role": "assistant", "content": "done"}]))
    assert second.diagnostics == first.diagnostics  # the unknown "extra" field, noted again
    assert (memo.hits, memo.misses) == (3, 5)  # 3 + 1 messages, and no history kept yet
    third_turn = [
        *turn,
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": "ok"},
    ]
    third = parse_request(_body(third_turn), memo=memo)
    assert third == parse_request(_body(third_turn))
    assert all(a is b for a, b in zip(second.messages, third.messages[:4], strict=True))
    # The history kept last turn (all but its last message) is found; messages 3 and 4 are
    # looked up one by one (3: a hit), the first three not at all.
    assert (memo.hits, memo.misses) == (5, 6)


def test_a_history_resumes_only_where_its_json_matches_byte_for_byte() -> None:
    """``1``, ``1.0`` and ``true`` are equal in Python, not in JSON: a tool input that changed
    type is parsed again, and the body sent on says what the client sent."""
    memo: MessageMemo = BytesLRU(1 << 20)

    def turn(value: object) -> list[dict[str, object]]:
        call = {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": value}}
        return [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "on it"},
            {"role": "user", "content": "go on"},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
            {"role": "assistant", "content": "done"},
            {"role": "user", "content": "again"},
        ]

    sent: list[str] = []
    for value in (1, 1.0, True, 1, "1"):
        parsed = parse_request(_body(turn(value)), memo=memo)
        assert parsed == parse_request(_body(turn(value)))
        part = parsed.messages[3].parts[0]
        assert isinstance(part, ToolCallPart)
        sent.append(part.arguments)
    assert sent == ['{"x":1}', '{"x":1.0}', '{"x":true}', '{"x":1}', '{"x":"1"}']


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

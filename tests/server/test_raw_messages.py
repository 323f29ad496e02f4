"""A body split with its messages kept as bytes parses as the whole-body decode does
(dialects/raw_messages.py, server/request_body.py; issue 15 item 3)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.dialects.message_memo import MessageMemo
from kimi_gateway.dialects.raw_messages import RawMessages, split_body
from kimi_gateway.dialects.registry import DIALECTS
from kimi_gateway.server.request_body import parse_request

PAD = "x" * 20_000  # bodies this large are split (server/request_body.py _RAW_MIN)
LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=4)
)
VALUE = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)


def _no_fill(body: dict[str, Any]) -> None:
    pass


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=3), VALUE), st.lists(VALUE, max_size=5), st.integers(0, 4))
def test_a_split_body_is_the_decoded_body(
    fields: dict[str, Any], messages: list[Any], where: int
) -> None:
    """The same keys in the same order, the same values (orjson's: 1, 1.0 and true stay
    apart), the messages read from their bytes."""
    items = list(fields.items())
    items.insert(min(where, len(items)), ("messages", messages))
    raw = orjson.dumps(dict(items))
    split = split_body(raw)
    assert split is not None
    assert isinstance(split["messages"], RawMessages)
    whole = orjson.loads(raw)
    read = {k: list(v) if isinstance(v, RawMessages) else v for k, v in split.items()}
    assert orjson.dumps(read) == orjson.dumps(whole)
    assert list(read) == list(whole)


def test_wide_integers_are_read_as_orjson_reads_them() -> None:
    raw = b'{"a": 123456789012345678901234567890, "messages": [{"n": -99999999999999999999}]}'
    split = split_body(raw)
    assert split is not None
    assert split["a"] == orjson.loads(raw)["a"]
    assert list(split["messages"]) == orjson.loads(raw)["messages"]


def test_what_is_not_an_object_with_a_messages_array_is_left_to_the_usual_decode() -> None:
    for raw in (b"[]", b'{"messages": {}}', b'{"model": "m"}', b"{", b'{"a": 1e999999}', b"\xff"):
        assert split_body(raw) is None


TEXT = st.sampled_from(["a", "b", "\\ud800", "x" * 50])
OPENAI = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": TEXT})
ANTHROPIC = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant"]),
        "content": st.lists(
            st.fixed_dictionaries({"type": st.just("text"), "text": TEXT}), min_size=1, max_size=2
        ),
    }
)


def _raw(route: str, messages: list[Any]) -> bytes:
    """A body as a client sends it, with a lone surrogate escape where ``\\ud800`` is (valid
    to msgspec's split, refused by orjson: the usual decode's error must come out)."""
    body: dict[str, Any] = {"model": "kimi-k2.6", "max_tokens": 10, "messages": messages}
    if route == "openai_chat":
        body["messages"] = [{"role": "system", "content": PAD}, *messages]
    else:
        body["system"] = PAD
    return orjson.dumps(body).replace(b"\\\\ud800", b"\\ud800")


def _outcome(raw: bytes, name: str, memo: MessageMemo | None) -> Any:
    try:
        return ("ok", parse_request(raw, DIALECTS[name], _no_fill, 1 << 20, memo))  # type: ignore[index]
    except GatewayError as exc:
        return ("error", exc.kind, str(exc), exc.param)


EDITED = {"role": "user", "content": [{"type": "text", "text": "edited"}]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["openai_chat", "anthropic_messages"]),
    turns=st.lists(st.tuples(st.integers(1, 3), st.none() | st.integers(0, 30)), max_size=6),
    data=st.data(),
)
def test_a_session_of_split_bodies_parses_as_whole_bodies(
    name: str, turns: list[tuple[int, int | None]], data: st.DataObject
) -> None:
    """Each turn appends messages (sometimes a refused string, sometimes after an edit of an
    earlier one): with the memo, split and resumed, the outcome is the whole-body parse's."""
    strategy = OPENAI if name == "openai_chat" else ANTHROPIC
    memo: MessageMemo = BytesLRU(64 << 20)
    messages: list[Any] = [data.draw(strategy) for _ in range(3)]
    for new, edit in turns:
        if edit is not None:
            messages[edit % len(messages)] = EDITED
        messages = [*messages, *(data.draw(strategy) for _ in range(new))]
        raw = _raw(name, messages)
        assert len(raw) >= 16 << 10
        assert _outcome(raw, name, memo) == _outcome(raw, name, None)
        assert _outcome(raw, name, memo) == _outcome(raw, name, None)  # resumed


def test_a_kept_history_counts_the_body_its_bytes_keep_alive() -> None:
    """The messages' bytes are views of the whole body (system prompt and tools included):
    the memo counts the body, so its bound holds for what it really keeps."""
    memo: MessageMemo = BytesLRU(64 << 20)
    messages = [{"role": "user", "content": str(i)} for i in range(5)]
    raw = _raw("anthropic_messages", messages)
    assert _outcome(raw, "anthropic_messages", memo)[0] == "ok"
    kept = [size for key, (_, size) in memo._entries.items() if b"/raw-history:" in key]
    assert len(kept) == 1
    assert kept[0] >= len(raw)

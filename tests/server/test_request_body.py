"""Counting a body's JSON values before parsing it (server/request_body.py, issue 10 item 4)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.server.request_body import decode_object, json_values, json_values_bound


def _values(value: object) -> int:
    """The exact number of values in a parsed JSON value (keys not counted)."""
    if isinstance(value, dict):
        return 1 + sum(_values(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_values(v) for v in value)
    return 1


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2, {"b": None}], "c": "x, [y], {z}, " * 10},
        {"s": 'quote \\" comma, [ { ' * 10},
        {"m": [{"role": "user", "content": ",,,,[[[{{{"}] * 50},
        {"e": [], "o": {}, "t": "[[[[[[[[[[[[[[[[[["},
    ],
)
def test_strings_are_not_counted_when_it_matters(value: object) -> None:
    raw = orjson.dumps(value)
    values = _values(value)
    limit = values + 2  # empty containers count as one value more each
    assert json_values_bound(raw) > limit  # the fast count includes what is in strings …
    assert values <= json_values(raw, limit) <= limit  # … the exact one does not
    assert json_values(raw, values - 1) == values  # past the limit: counted, then stopped


def test_a_body_over_the_limit_is_a_400() -> None:
    with pytest.raises(GatewayError) as caught:
        decode_object(orjson.dumps({"x": list(range(5000))}), 1000)
    assert caught.value.kind == "invalid_request"
    assert caught.value.message == (
        "request body is too complex: more than 1000 JSON values (this gateway's limit: "
        "security.requests.max_json_values)"
    )
    text = {"x": "a, b, [c], {d} " * 2000}  # 8000 commas and brackets, all inside a string
    assert decode_object(orjson.dumps(text), 1000) == text


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-9, 9) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(_json, st.sampled_from([b"", b" ", b"\n  "]))
def test_a_short_body_holds_no_more_values_than_half_its_length(value: object, pad: bytes) -> None:
    """The length bound that lets a body shorter than twice the limit skip counting: every
    value takes two bytes at least but one (the tightest is ``[0,0,0]``), however it is laid
    out; so no body over a limit passes, whichever count decides."""
    raw = orjson.dumps(value).replace(b",", b"," + pad)
    values = _values(value)
    assert values <= (len(raw) + 1) // 2
    for limit in range(max(1, values - 3), values + 3):
        if json_values(raw, limit) <= limit:
            assert values <= limit


def test_the_densest_body_is_at_the_length_bound() -> None:
    raw = orjson.dumps([0] * 999)  # 1,000 values in 1,999 bytes
    assert json_values(raw, 1000) == 1000
    assert json_values(raw, 999) > 999  # one short: counted, and refused

"""Counting a body's JSON values before parsing it (server/request_body.py, issue 10 item 4)."""

from __future__ import annotations

import orjson
import pytest

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

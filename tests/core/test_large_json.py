"""core/large_json.py: a large body decodes to exactly what orjson makes of it (msgspec does the
work), and bad JSON is an InvalidJSON either way."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_gateway.core import large_json

PAD = "p" * large_json.LARGE  # makes any document large


def _large(value: Any) -> bytes:
    return orjson.dumps({"value": value, "pad": PAD})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 70), max_value=1 << 70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _encoded(value: Any) -> bytes:
    """``value`` as JSON text, integers of any width written out (as a client may send them)."""
    if isinstance(value, bool) or value is None or isinstance(value, (float, str)):
        return orjson.dumps(value)
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, list):
        return b"[" + b",".join(_encoded(v) for v in value) + b"]"
    items = (orjson.dumps(k) + b":" + _encoded(v) for k, v in value.items())
    return b"{" + b",".join(items) + b"}"


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_a_large_document_decodes_as_orjson_decodes_it(value: Any) -> None:
    raw = b'{"value":' + _encoded(value) + b',"pad":"' + PAD.encode() + b'"}'
    assert len(raw) >= large_json.LARGE
    assert large_json.loads(raw) == orjson.loads(raw)


@pytest.mark.parametrize(
    "number",
    [
        "18446744073709551615",  # 2**64 - 1: still an int to orjson
        "18446744073709551616",  # 2**64: a float
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
    ],
)
def test_wide_integers_become_floats_where_orjson_makes_them_floats(number: str) -> None:
    raw = b'{"a":[' + number.encode() + b',{"b":' + number.encode() + b'}],"pad":"'
    raw += PAD.encode() + b'"}'
    got = large_json.loads(raw)
    want = orjson.loads(raw)
    assert got == want
    assert type(got["a"][0]) is type(want["a"][0])
    assert type(got["a"][1]["b"]) is type(want["a"][1]["b"])
    orjson.dumps(got)  # what the rest of the gateway does with it


def test_a_large_top_level_integer_too() -> None:
    raw = b" " * large_json.LARGE + b"123456789012345678901234567890"
    assert large_json.loads(raw) == orjson.loads(raw)


@pytest.mark.parametrize(
    "bad",
    [b'{"a":NaN', b'{"a":"\\ud800"', b'{"a":1} x', b'{"a":"\xff"', b'{"a":01', b'{"a":1,}'],
)
@pytest.mark.parametrize("large", [False, True])
def test_bad_json_is_invalid_json_at_any_size(bad: bytes, large: bool) -> None:
    raw = bad + (b',"pad":"' + PAD.encode() + b'"}' if large else b"}")
    with pytest.raises(large_json.InvalidJSON):
        large_json.loads(raw)


def test_a_small_document_keeps_orjsons_message() -> None:
    with pytest.raises(large_json.InvalidJSON, match="line 1 column"):
        large_json.loads(b'{"a":}')

"""Decoding large request bodies: msgspec where orjson holds the GIL too long.

A request body of tens of MB is decoded and its upstream body encoded in the offload worker
(upstreams/offload.py), but each of those is one C call that holds the GIL, and while it runs
the event loop serves nobody. Measured on the 32 MiB bodies of
tests/e2e/test_security_load.py, in a fresh process with the server's malloc settings:
``orjson.loads`` 42-59 ms, ``msgspec.json.decode`` 25-39 ms (orjson's path for long strings
is slow). On bodies up to 150 KB the two decode alike, so only large ones (``LARGE`` bytes and
up) take msgspec. Encoding stays with orjson: msgspec was no faster on these bodies (24-26 ms
against 15-20 ms).

The JSON is the same either way but for one difference, taken out here: msgspec decodes an
integer wider than 64 bits exactly, where orjson makes it a float (and cannot encode it, which
the rest of the gateway does with orjson). Such integers become floats, as orjson makes them;
the walk that finds them is Python, so the GIL changes hands while it runs.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

LARGE = 1 << 20  # bytes of JSON from which msgspec is used

_MIN_INT = -(1 << 63)  # orjson decodes integers in [-2**63, 2**64) as int, others as float
_END_INT = 1 << 64

_DECODER = msgspec.json.Decoder()


class InvalidJSON(ValueError):
    """Bytes that are not one JSON document."""


def loads(raw: bytes) -> Any:
    """``raw`` decoded as orjson decodes it; InvalidJSON when it is not JSON."""
    if len(raw) < LARGE:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(str(exc)) from None
    try:
        value = _DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InvalidJSON(str(exc)) from None
    return _orjson_ints(value)


def _orjson_ints(value: Any) -> Any:
    """``value`` with every integer outside orjson's range made a float, in place."""
    if type(value) is int:
        return _int(value)
    stack = [value]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            for key, item in node.items():
                kind = type(item)
                if kind is dict or kind is list:
                    stack.append(item)
                elif kind is int and not _MIN_INT <= item < _END_INT:
                    node[key] = float(item)
        elif type(node) is list:
            for index, item in enumerate(node):
                kind = type(item)
                if kind is dict or kind is list:
                    stack.append(item)
                elif kind is int and not _MIN_INT <= item < _END_INT:
                    node[index] = float(item)
    return value


def _int(value: int) -> int | float:
    return value if _MIN_INT <= value < _END_INT else float(value)

"""A deep copy of JSON data at C speed, for rendered wire bodies.

A dialect's ``render_request`` returns a copy so that its callers (the quirk layer's wire
fix-ups) may edit the body without touching the frozen Request it came from. ``copy.deepcopy``
of a 150 KB agent history cost ~0.9 ms, a quarter of the render path (issue 15 item 3,
bench/LARGE.md); orjson's round trip costs ~0.2 ms. The copy is the same JSON: what the round
trip changes (tuples become lists, ``str``/``dict`` subclasses plain ones, a NaN or infinity
``null``, dataclasses and datetimes their JSON, as orjson writes them anyway) encodes to the
same bytes. What orjson cannot carry (integers over 64 bits, non-string keys, other objects an
SDK caller passed through) falls back to ``copy.deepcopy``, so nothing is refused here that was
not refused before.

What does not belong here: encoding bodies for the wire (the upstreams do that).
"""

from __future__ import annotations

import copy
from typing import TypeVar

import orjson

from kimi_gateway.core.offloaded import offloaded

T = TypeVar("T")


def json_copy(value: T) -> T:
    """A deep copy of ``value`` (JSON data: dicts, lists, strings, numbers, booleans, None).

    In the offload worker it is ``copy.deepcopy``: one orjson call over tens of MB holds the
    GIL long enough to stall the loop (the 32 MiB bodies of tests/e2e/test_security_load.py:
    /healthz p99 over 100 ms), where deepcopy shares strings and lets the loop run between its
    steps (core/offloaded.py)."""
    if offloaded():
        return copy.deepcopy(value)
    try:
        copied: T = orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError:
        return copy.deepcopy(value)
    return copied

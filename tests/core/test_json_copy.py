"""core/json_copy: the rendered body's copy is the same JSON, independent of the original, and
what orjson cannot carry still copies (as copy.deepcopy did before, issue 15 item 3)."""

from __future__ import annotations

from typing import Any

import orjson

from kimi_gateway.core.json_copy import json_copy


def test_a_copy_is_equal_and_shares_nothing_mutable() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "n": 1.5}
    copied = json_copy(body)
    assert copied == body
    copied["messages"][0]["content"][0]["text"] = "changed"
    assert body == {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "n": 1.5}


def test_tuples_become_lists_which_encode_to_the_same_bytes() -> None:
    body = {"stop": ("a", "b"), "nested": {"t": (1, (2, 3))}}
    copied = json_copy(body)
    assert copied == {"stop": ["a", "b"], "nested": {"t": [1, [2, 3]]}}
    assert orjson.dumps(copied) == orjson.dumps(body)


def test_what_orjson_cannot_encode_is_still_copied() -> None:
    body: dict[Any, Any] = {"big": 2**70, 3: "non-string key", "s": {1, 2}}
    copied = json_copy(body)
    assert copied == body
    assert copied["s"] is not body["s"]


def test_in_the_offload_worker_strings_are_shared_not_copied() -> None:
    """There a copy must not be one long C call (it would hold the GIL): deepcopy shares the
    strings, where orjson's round trip makes new ones."""
    import contextvars

    from kimi_gateway.core.offloaded import OFFLOADED

    text = "x" * 1000
    body = {"messages": [{"content": text}]}

    def copied() -> object:
        OFFLOADED.set(True)
        return json_copy(body)["messages"][0]["content"]

    assert contextvars.copy_context().run(copied) is text
    assert json_copy(body)["messages"][0]["content"] is not text  # on the loop: orjson
    assert OFFLOADED.get() is False

"""The work limits reach dynamic tools wherever they are, a resent history included
(engine/limits.py; its walk keeps what it found for a history, core/history.py)."""

from __future__ import annotations

import pytest

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Message, Request, TextPart, Tool
from kimi_gateway.engine.limits import RequestLimits, check_request

LIMITS = RequestLimits(max_schema_depth=4)
ITEMS = {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {}}}}
DEEP = {"type": "object", "properties": {"a": ITEMS}}


def _turn(n: int) -> Message:
    return Message("user" if n % 2 == 0 else "assistant", (TextPart(f"turn {n}"),))


def test_a_deep_dynamic_tool_after_a_kept_history_is_refused() -> None:
    history = tuple(_turn(n) for n in range(6))
    check_request(Request(model="m", messages=history), LIMITS)  # walked: kept for next turn
    tools = Message("system", (), tools=(Tool("f", parameters=DEEP),))
    grown = Request(model="m", messages=(*history, tools, _turn(7)))
    with pytest.raises(GatewayError) as caught:
        check_request(grown, LIMITS)
    assert "messages[6].tools[0] (f)" in caught.value.message
    with pytest.raises(GatewayError):  # again, from the history the last walk kept
        check_request(Request(model="m", messages=(*grown.messages, _turn(8))), LIMITS)

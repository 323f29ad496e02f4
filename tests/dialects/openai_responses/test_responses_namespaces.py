"""Namespace tools flattened for Kimi and their calls given back their namespace."""

from __future__ import annotations

from typing import Any

from kimi_gateway.core.model import Response, ToolCallPart
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.openai_responses import render_response
from kimi_gateway.dialects.openai_responses.envelope import Envelope
from kimi_gateway.dialects.openai_responses.namespaces import flatten, split

SPAWN = {"type": "function", "name": "spawn_agent", "description": "Spawn one.", "parameters": {}}
NAMESPACE = {
    "type": "namespace",
    "name": "multi_agent_v1",
    "description": "Sub-agents.",
    "tools": [SPAWN, {"type": "web_search"}],
}
EXEC = {"type": "function", "name": "exec_command", "parameters": {}}


def test_flatten_joins_names_and_leaves_the_rest() -> None:
    call = {"type": "function_call", "call_id": "c", "name": "spawn_agent", "arguments": "{}"}
    body: dict[str, Any] = {
        "input": [{**call, "namespace": "multi_agent_v1"}, {**call, "name": "exec_command"}],
        "tools": [EXEC, NAMESPACE],
    }
    flat, names = flatten(body)
    assert names == frozenset({"multi_agent_v1"})
    assert flat["tools"] == [
        EXEC,
        {**SPAWN, "name": "multi_agent_v1__spawn_agent", "description": "Sub-agents. Spawn one."},
        {"type": "web_search"},
    ]
    assert flat["input"] == [
        {**call, "name": "multi_agent_v1__spawn_agent"},
        {**call, "name": "exec_command"},
    ]
    assert body["tools"][1] is NAMESPACE  # the argument is not changed
    assert flatten({"input": "x"}) == ({"input": "x"}, frozenset())


def test_split_only_declared_namespaces() -> None:
    names = frozenset({"ns"})
    assert split("ns__tool", names) == ("ns", "tool")
    assert split("other__tool", names) == (None, "other__tool")
    assert split("ns__", names) == (None, "ns__")
    assert split("plain", names) == (None, "plain")


def test_a_flattened_call_renders_with_its_namespace() -> None:
    response = Response(
        "r", "m", (ToolCallPart("c", "multi_agent_v1__spawn_agent", "{}"),), "tool_use", Usage()
    )
    envelope = Envelope(id="resp_1", namespaces=frozenset({"multi_agent_v1"}))
    (item,) = render_response(response, None, envelope)["output"]
    assert (item["name"], item["namespace"]) == ("spawn_agent", "multi_agent_v1")

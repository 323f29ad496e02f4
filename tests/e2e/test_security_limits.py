"""The work one request may ask for is bounded (issue 10 item 4), each limit answered with a 400
in the route's dialect that names its setting, before anything is sent to Kimi; count_tokens
shares the checks (item 7: it had no tool cap). Small limits keep the bodies small here; the
defaults under load are test_security_load.py's."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

LIMITS = {
    "requests": {
        "max_messages": 5,
        "max_schema_nodes": 50,
        "max_schema_depth": 6,
        "max_json_values": 2000,
    }
}
USER = {"role": "user", "content": "@@text:ok@@"}


def _tool(parameters: dict[str, Any], name: str = "f") -> dict[str, Any]:
    return {"name": name, "input_schema": parameters}


def _nested(depth: int) -> dict[str, Any]:
    """A tool schema ``depth`` objects deep: an object whose property is an array of arrays …
    of strings (Kimi takes only an object at the root)."""
    items: dict[str, Any] = {"type": "string"}
    for _ in range(depth - 3):
        items = {"type": "array", "items": items}
    return {"type": "object", "properties": {"a": items}}


@pytest.fixture
def limited(gateway_pool: Any, kimi_emulator: Any) -> Any:
    return gateway_pool.get(security=LIMITS, max_tools=3)


def _post(gateway: Any, path: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return httpx.post(gateway.url + path, content=orjson.dumps(body), headers=headers, timeout=30)


def _anthropic_error(reply: httpx.Response) -> str:
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    return str(body["error"]["message"])


MESSAGES = [
    (
        {"messages": [USER] * 6},
        "too many messages: 6 (this gateway's limit is 5: security.requests.max_messages)",
    ),
    (
        {"messages": [USER], "tools": [_tool({"type": "object", "enum": list(range(60))})]},
        "tools[0] (f): the JSON schema is too large: more than 50 nodes (this gateway's limit: "
        "security.requests.max_schema_nodes)",
    ),
    (
        {"messages": [USER], "tools": [_tool(_nested(7))]},
        "tools[0] (f): the JSON schema is too large: nested more than 6 deep (this gateway's "
        "limit: security.requests.max_schema_depth)",
    ),
    (
        {"messages": [USER], "tools": [_tool({"type": "object"}, f"t{i}") for i in range(4)]},
        "too many tools: 4 (this gateway's limit is 3)",
    ),
    (
        {"messages": [USER], "metadata": {"x": list(range(2500))}},
        "request body is too complex: more than 2000 JSON values (this gateway's limit: "
        "security.requests.max_json_values)",
    ),
]


@pytest.mark.parametrize(("extra", "message"), MESSAGES)
@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_limits_refuse_with_a_clear_400(
    limited: Any, path: str, extra: dict[str, Any], message: str
) -> None:
    body = {"model": "kimi-k2.6", "max_tokens": 20, **extra}
    assert _anthropic_error(_post(limited, path, body)) == message
    assert limited.emulator.requests() == []


def test_chat_completions_limits_in_openai_shape(limited: Any) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": _nested(7)}}
    reply = _post(limited, "/v1/chat/completions", {"messages": [USER], "tools": [tool]})
    assert reply.status_code == 400
    assert reply.json()["error"] == {
        "message": "tools[0] (f): the JSON schema is too large: nested more than 6 deep (this "
        "gateway's limit: security.requests.max_schema_depth)",
        "type": "invalid_request_error",
        "param": "tools",
        "code": None,
    }


def test_commas_inside_strings_are_not_values(limited: Any) -> None:
    """The fast count includes strings; a body over it is counted exactly before refusing."""
    text = "@@text:ok@@ " + "a, [b], {c}, " * 1000  # 3000 commas and brackets, all in a string
    reply = _post(
        limited, "/v1/chat/completions", {"messages": [{"role": "user", "content": text}]}
    )
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == "ok"


def test_within_the_limits_is_served(limited: Any) -> None:
    body = {"messages": [USER] * 5, "tools": [_tool(_nested(6))], "max_tokens": 20}
    assert _post(limited, "/v1/messages", body).status_code == 200

"""Out-of-range integers are a 400 naming the field, in the route's dialect, before anything is
sent to Kimi (issue 10 item 6): ``max_tokens: 1e30`` or ``2**70`` used to reach the JSON encoder
as a 100-bit int and end in a 500. Bodies are sent as raw bytes so the numbers arrive exactly as
written (a JSON library on the client side could round or refuse them)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

CHAT = b'{"model":"kimi-k2.6","messages":[{"role":"user","content":"@@text:ok@@"}]'
MESSAGES = b'{"model":"kimi-k2.6","messages":[{"role":"user","content":"@@text:ok@@"}]'
BAD = [b"1e30", b"1180591620717411303424", b"18446744073709551615", b"2147483648", b"-1"]


def _post(gateway: Any, path: str, body: bytes) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return httpx.post(gateway.url + path, content=body, headers=headers, timeout=30)


@pytest.mark.parametrize("number", BAD)
@pytest.mark.parametrize(
    ("field", "param"),
    [
        (b'"max_tokens":%s', "max_tokens"),
        (b'"max_completion_tokens":%s', "max_completion_tokens"),
        (b'"n":%s', "n"),
        (b'"thinking":{"type":"enabled","budget_tokens":%s}', "thinking.budget_tokens"),
    ],
)
def test_chat_integer_fields_are_range_checked(
    gateway: Any, field: bytes, param: str, number: bytes
) -> None:
    reply = _post(gateway, "/v1/chat/completions", CHAT + b"," + field % number + b"}")
    assert reply.status_code == 400, reply.text
    shown = repr(orjson.loads(number))
    assert reply.json() == {
        "error": {
            "message": f"Invalid value for '{param}': expected an integer from 0 to "
            f"2147483647, but got {shown}.",
            "type": "invalid_request_error",
            "param": param,
            "code": None,
        }
    }
    assert gateway.emulator.requests() == []  # refused before Kimi


@pytest.mark.parametrize("number", BAD)
@pytest.mark.parametrize(
    ("field", "param"),
    [
        (b'"max_tokens":%s', "max_tokens"),
        (b'"max_tokens":9,"top_k":%s', "top_k"),
        (
            b'"max_tokens":9,"thinking":{"type":"enabled","budget_tokens":%s}',
            "thinking.budget_tokens",
        ),
    ],
)
def test_messages_integer_fields_are_range_checked(
    gateway: Any, field: bytes, param: str, number: bytes
) -> None:
    reply = _post(gateway, "/v1/messages", MESSAGES + b"," + field % number + b"}")
    assert reply.status_code == 400, reply.text
    value = orjson.loads(number)  # beyond 64 bits JSON readers give a float
    expected = (
        f"{param}: expected an integer, got float"
        if isinstance(value, float)
        else f"{param}: expected an integer from 0 to 2147483647, got {value}"
    )
    assert reply.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": expected},
    }
    assert gateway.emulator.requests() == []


def test_count_tokens_is_range_checked_too(gateway: Any) -> None:
    body = MESSAGES + b',"max_tokens":1180591620717411303424}'
    reply = _post(gateway, "/v1/messages/count_tokens", body)
    assert reply.status_code == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_the_largest_allowed_count_reaches_kimi(
    gateway_pool: Any, kimi_emulator: Any, path: str
) -> None:
    # Without the clamp to the model's window (on by default, tested in test_max_tokens_room.py)
    # the number reaches Kimi as written.
    gateway = gateway_pool.get(quirks={"clamp_max_tokens_to_context": False})
    body = (CHAT if path.endswith("completions") else MESSAGES) + b',"max_tokens":2147483647}'
    reply = _post(gateway, path, body)
    # Kimi refuses it for its context window (its own 400), but the gateway sent it on.
    assert reply.status_code == 400
    [seen] = gateway.emulator.requests()
    sent = seen["body"]
    assert sent.get("max_completion_tokens", sent.get("max_tokens")) == 2147483647

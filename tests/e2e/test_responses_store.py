"""The Responses store behind the gateway: on the machine's PostgreSQL, switched off, and the
sealing key shared by replicas (one replica's encrypted_content opens on another)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from gateway_server import GatewayServer
from test_responses import EXEC, MODEL, REASONING, client, kimi_bodies

from kimi_gateway.emulator.server import EmulatorServer


def test_conversation_kept_in_postgresql(
    gateway_factory: Any, postgres_url: str, kimi_emulator: EmulatorServer
) -> None:
    gateway = gateway_factory(database_url=postgres_url)
    sdk = client(gateway)
    first = sdk.responses.create(model=MODEL, input="@@text:one@@", instructions="Be brief.")
    second = sdk.responses.create(model=MODEL, input="@@text:two@@", previous_response_id=first.id)
    messages = kimi_bodies(kimi_emulator)[-1]["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "@@text:one@@"),
        ("assistant", "one"),
        ("user", "@@text:two@@"),
    ]  # instructions are not carried over (the API's rule)
    assert messages[1]["reasoning_content"] == REASONING
    assert sdk.responses.retrieve(second.id).output_text == "two"
    listed = sdk.responses.input_items.list(second.id)
    assert [item.type for item in listed.data] == ["message", "message", "reasoning", "message"]
    raw = sdk.responses.input_items.with_raw_response.list(second.id).http_response.json()
    assert (raw["first_id"], raw["last_id"]) == (listed.data[0].id, listed.data[-1].id)
    page = sdk.responses.input_items.list(second.id, limit=1, order="asc")
    assert (len(page.data), page.has_more) == (1, True)
    sdk.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError) as info:
        sdk.responses.create(model=MODEL, input="x", previous_response_id=second.id)
    assert first.id in info.value.message  # the earlier turn that is gone is named


def test_store_switched_off(gateway_factory: Any) -> None:
    gateway = gateway_factory(responses={"store": False})
    sdk = client(gateway)
    made = sdk.responses.create(model=MODEL, input="@@text:x@@")
    assert made.model_dump()["store"] is False  # the reply says it was not kept
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(made.id)
    with pytest.raises(openai.BadRequestError) as info:
        sdk.responses.create(model=MODEL, input="y", previous_response_id=made.id)
    assert "responses.store: false" in info.value.message


def _stateless_round_trip(first_gw: GatewayServer, second_gw: GatewayServer) -> None:
    first = client(first_gw).responses.create(
        model=MODEL,
        tools=[EXEC],
        input='@@tool:exec_command {"cmd":"ls"}@@',
        store=False,
        include=["reasoning.encrypted_content"],
    )
    items: list[Any] = [item.model_dump(exclude_none=True) for item in first.output]
    items[0]["summary"] = [{"type": "summary_text", "text": "summary only"}]
    output = {"type": "function_call_output", "call_id": items[-1]["call_id"], "output": "a"}
    resent: list[Any] = [*items, output]
    client(second_gw).responses.create(model=MODEL, tools=[EXEC], input=resent, store=False)


def test_replicas_sharing_a_sealing_key_restore_each_others_reasoning(
    gateway_factory: Any, kimi_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KGW_SEALING_KEY", "s" * 40)
    shared = {"responses": {"sealing_key_env": "KGW_SEALING_KEY"}}
    one, two = gateway_factory(**shared), gateway_factory(**shared)
    _stateless_round_trip(one, two)
    assert kimi_bodies(kimi_emulator)[-1]["messages"][0]["reasoning_content"] == REASONING
    alone = gateway_factory()  # its own generated key: the token does not open there
    _stateless_round_trip(one, alone)
    assert kimi_bodies(kimi_emulator)[-1]["messages"][0]["reasoning_content"] == "summary only"


def test_a_short_sealing_key_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from kimi_gateway.settings_responses import ResponsesSettings

    monkeypatch.setenv("KGW_SEALING_KEY", "short")
    with pytest.raises(ValueError, match="at least 32 characters"):
        ResponsesSettings(sealing_key_env="KGW_SEALING_KEY")


def test_item_references_name_stored_output_items(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    """What the Vercel AI SDK sends on its tool step: earlier output items by reference."""
    sdk = client(gateway)
    first = sdk.responses.create(
        model=MODEL, tools=[EXEC], input='@@tool:exec_command {"cmd":"ls"}@@'
    )
    refs: list[Any] = [{"type": "item_reference", "id": item.id} for item in first.output]
    call_id = first.output[-1].model_dump()["call_id"]
    output = {"type": "function_call_output", "call_id": call_id, "output": "a.txt"}
    resent: list[Any] = [*refs, output]
    second = sdk.responses.create(model=MODEL, tools=[EXEC], input=resent)
    assert second.output_text == "TOOL_RESULT_SEEN: a.txt"
    assistant = kimi_bodies(kimi_emulator)[-1]["messages"][0]
    assert assistant["reasoning_content"] == REASONING
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"cmd":"ls"}'
    missing: list[Any] = [{"type": "item_reference", "id": "rs_00ff_0"}]
    with pytest.raises(openai.NotFoundError) as info:
        sdk.responses.create(model=MODEL, input=missing)
    assert "rs_00ff_0" in info.value.message

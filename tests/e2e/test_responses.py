"""POST /v1/responses through the gateway to the emulator, driven by the official openai SDK:
text, streaming event order, tools round trips (resent items, as Codex does, and
previous_response_id), structured output, reasoning, web search, and errors."""

from __future__ import annotations

from typing import Any

import openai
import orjson
import pytest
from gateway_server import GatewayServer
from openai.types.responses import FunctionToolParam, ResponseInputItemParam
from pydantic import BaseModel

from kimi_gateway.emulator.server import EmulatorServer

MODEL = "kimi-k2.6"
REASONING = "The user wrote to me. I will answer with the scripted reply."
EXEC: FunctionToolParam = {
    "type": "function",
    "name": "exec_command",
    "description": "Run a shell command.",
    "parameters": {
        "type": "object",
        "properties": {"cmd": {"type": "string"}},
        "required": ["cmd"],
        "additionalProperties": False,
    },
    "strict": False,
}


def client(gateway: GatewayServer, key: str = "anything") -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_url, api_key=key, max_retries=0)


def kimi_bodies(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r["body"] for r in emulator.requests() if r["path"].endswith("/chat/completions")]


def test_text_reply_streamed_and_not_say_the_same(gateway: GatewayServer) -> None:
    sdk = client(gateway)
    kwargs: dict[str, Any] = {"model": MODEL, "input": "@@text:Hello there@@"}
    plain = sdk.responses.create(**kwargs, instructions="Be brief.", reasoning={"effort": "none"})
    with sdk.responses.stream(
        **kwargs, instructions="Be brief.", reasoning={"effort": "none"}
    ) as s:
        streamed = s.get_final_response()
    replies: list[Any] = [plain, streamed]
    for reply in replies:
        assert reply.id.startswith("resp_")
        assert (reply.status, reply.output_text, reply.model) == ("completed", "Hello there", MODEL)
        assert reply.instructions == "Be brief."
        assert reply.store is True
        assert reply.usage is not None
        assert reply.usage.output_tokens_details.reasoning_tokens == 0
        assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens
    assert plain.id != streamed.id
    assert plain.usage is not None
    assert streamed.usage is not None
    assert plain.usage.input_tokens == streamed.usage.input_tokens
    assert plain.usage.output_tokens == streamed.usage.output_tokens


def test_stream_events_in_order_with_sequence_numbers(gateway: GatewayServer) -> None:
    sdk = client(gateway)
    with sdk.responses.stream(
        model=MODEL, input="@@thinking@@ @@text:Hi@@", include=["reasoning.encrypted_content"]
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    thinking = kinds.count("response.reasoning_summary_text.delta")
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        *["response.reasoning_summary_text.delta"] * thinking,
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    reasoning = final.output[0]
    assert reasoning.type == "reasoning"
    assert reasoning.summary[0].text == REASONING
    assert (reasoning.encrypted_content or "").startswith("kgw1.")


def _tool_turn(sdk: openai.OpenAI, **kwargs: Any) -> Any:
    return sdk.responses.create(
        model=MODEL, tools=[EXEC], input='@@tool:exec_command {"cmd":"ls"}@@', **kwargs
    )


def test_tool_round_trip_by_resent_items_as_codex_does(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    sdk = client(gateway)
    first = _tool_turn(sdk, store=False, include=["reasoning.encrypted_content"])
    call = first.output[-1]
    assert (call.type, call.name, call.arguments) == (
        "function_call",
        "exec_command",
        '{"cmd":"ls"}',
    )
    history: list[Any] = [{"role": "user", "content": '@@tool:exec_command {"cmd":"ls"}@@'}]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    # A client that drops the readable summary still gets Kimi's reasoning back: it is sealed.
    history[1]["summary"] = []
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "a.txt"})
    second = sdk.responses.create(model=MODEL, tools=[EXEC], input=history, store=False)
    assert second.output_text == "TOOL_RESULT_SEEN: a.txt"
    assistant = kimi_bodies(kimi_emulator)[-1]["messages"][1]
    assert assistant["reasoning_content"] == REASONING
    assert assistant["tool_calls"][0]["function"]["name"] == "exec_command"
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(first.id)  # store: false keeps nothing


def test_a_forged_encrypted_content_is_not_trusted(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    sdk = client(gateway)
    first = _tool_turn(sdk, store=False, include=["reasoning.encrypted_content"])
    items = [item.model_dump(exclude_none=True) for item in first.output]
    token = items[0]["encrypted_content"]
    items[0]["encrypted_content"] = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    items[0]["summary"] = [{"type": "summary_text", "text": "client text"}]
    call_id = items[-1]["call_id"]
    output: ResponseInputItemParam = {
        "type": "function_call_output",
        "call_id": call_id,
        "output": "x",
    }
    resent: list[Any] = [*items, output]
    sdk.responses.create(model=MODEL, tools=[EXEC], input=resent, store=False)
    assistant = kimi_bodies(kimi_emulator)[-1]["messages"][0]
    assert assistant["reasoning_content"] == "client text"


def test_tool_round_trip_by_previous_response_id(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    sdk = client(gateway)
    first = _tool_turn(sdk)
    call = first.output[-1]
    output: ResponseInputItemParam = {
        "type": "function_call_output",
        "call_id": call.call_id,
        "output": "a.txt",
    }
    with sdk.responses.stream(
        model=MODEL, tools=[EXEC], input=[output], previous_response_id=first.id
    ) as stream:
        second = stream.get_final_response()
    assert second.output_text == "TOOL_RESULT_SEEN: a.txt"
    assert second.previous_response_id == first.id
    assert second.usage is not None  # the emulator caches a prefix it saw, as Kimi does
    assert second.usage.input_tokens_details.cached_tokens > 0
    messages = kimi_bodies(kimi_emulator)[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["reasoning_content"] == REASONING
    third = sdk.responses.create(model=MODEL, input="@@text:done@@", previous_response_id=second.id)
    assert third.output_text == "done"
    assert len(kimi_bodies(kimi_emulator)[-1]["messages"]) == 5
    listed = sdk.responses.input_items.list(third.id, order="asc")
    types = [item.type for item in listed.data]
    assert types[:4] == ["message", "reasoning", "function_call", "function_call_output"]
    assert types[-1] == "message"
    assert sdk.responses.retrieve(second.id).output_text == "TOOL_RESULT_SEEN: a.txt"


class Answer(BaseModel):
    city: str
    days: int


def test_structured_output(gateway: GatewayServer, kimi_emulator: EmulatorServer) -> None:
    sdk = client(gateway)
    reply = sdk.responses.parse(
        model=MODEL, input='@@text:{"city": "Paris", "days": 3}@@', text_format=Answer
    )
    assert reply.output_parsed == Answer(city="Paris", days=3)
    sent = kimi_bodies(kimi_emulator)[-1]["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Answer"
    assert set(sent["json_schema"]["schema"]["properties"]) == {"city", "days"}


def test_reasoning_effort_reaches_kimi_as_thinking(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    sdk = client(gateway)
    off = sdk.responses.create(model=MODEL, input="hi", reasoning={"effort": "none"})
    assert [item.type for item in off.output] == ["message"]
    assert kimi_bodies(kimi_emulator)[-1]["thinking"] == {"type": "disabled"}
    on = sdk.responses.create(model=MODEL, input="hi", reasoning={"effort": "high"})
    assert [item.type for item in on.output] == ["reasoning", "message"]
    assert on.usage is not None
    assert on.usage.output_tokens_details.reasoning_tokens > 0


PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def test_image_input_and_tool_choice_none(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    content: list[Any] = [
        {"type": "input_text", "text": '@@tool:exec_command {"cmd":"ls"}@@ what is this?'},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "low"},
    ]
    reply = client(gateway).responses.create(
        model=MODEL,
        input=[{"role": "user", "content": content}],
        tools=[EXEC],
        tool_choice="none",
        reasoning={"effort": "none"},
    )
    assert [item.type for item in reply.output] == ["message"]  # no call: tool_choice none
    sent = kimi_bodies(kimi_emulator)[-1]
    assert sent["tool_choice"] == "none"
    image = sent["messages"][0]["content"][1]
    assert image == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"},
    }


def test_max_output_tokens_is_incomplete(gateway: GatewayServer) -> None:
    reply = client(gateway).responses.create(
        model=MODEL, input="@@text:a long answer here@@", max_output_tokens=3
    )
    assert reply.status == "incomplete"
    assert reply.incomplete_details is not None
    assert reply.incomplete_details.reason == "max_output_tokens"


def test_web_search_runs_inside_one_response(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    sdk = client(gateway)
    with sdk.responses.stream(
        model=MODEL,
        input='@@tool:$web_search {"query":"kimi"}@@',
        tools=[{"type": "web_search"}],
        reasoning={"effort": "none"},
    ) as stream:
        kinds = [event.type for event in stream]
        reply = stream.get_final_response()
    assert [item.type for item in reply.output] == ["web_search_call", "message"]
    assert reply.output_text == 'TOOL_RESULT_SEEN: {"query":"kimi"}'
    assert kinds.count("response.created") == kinds.count("response.completed") == 1
    assert "response.web_search_call.completed" in kinds
    second = kimi_bodies(kimi_emulator)[-1]
    assert second["tools"] == [{"type": "builtin_function", "function": {"name": "$web_search"}}]
    assert second["messages"][-1]["content"] == '{"query":"kimi"}'


def test_cached_only_web_search_is_not_sent_to_kimis_live_search(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    raw = client(gateway).responses.with_raw_response.create(
        model=MODEL, input="hi", tools=[{"type": "web_search", "external_web_access": False}]
    )
    assert raw.parse().status == "completed"
    assert "tools" not in kimi_bodies(kimi_emulator)[-1]
    assert "external_web_access is false" in raw.headers["x-kimi-gateway-diagnostics"]


def test_a_namespace_tool_is_called_by_its_own_name(
    gateway: GatewayServer, kimi_emulator: EmulatorServer
) -> None:
    """Codex's sub-agent tools come as a namespace; Kimi sees flat function tools."""
    spawn = {**EXEC, "name": "spawn_agent"}
    tools: list[Any] = [
        {"type": "namespace", "name": "agents", "description": "", "tools": [spawn]}
    ]
    sdk = client(gateway)
    with sdk.responses.stream(
        model=MODEL, tools=tools, input='@@tool:agents__spawn_agent {"cmd":"x"}@@'
    ) as stream:
        added = [e for e in stream if e.type == "response.output_item.added"]
        first = stream.get_final_response()
    call = first.output[-1].model_dump()
    assert (call["name"], call["namespace"]) == ("spawn_agent", "agents")
    assert added[-1].item.model_dump()["namespace"] == "agents"
    assert kimi_bodies(kimi_emulator)[-1]["tools"][0]["function"]["name"] == "agents__spawn_agent"
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "ok"}
    resent: list[Any] = [*(item.model_dump(exclude_none=True) for item in first.output), output]
    sdk.responses.create(model=MODEL, tools=tools, input=resent, store=False)
    assistant = kimi_bodies(kimi_emulator)[-1]["messages"][0]
    assert assistant["tool_calls"][0]["function"]["name"] == "agents__spawn_agent"


def test_an_unsupported_hosted_tool_is_a_400_naming_it(gateway: GatewayServer) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(gateway).responses.create(
            model=MODEL, input="hi", tools=[{"type": "file_search", "vector_store_ids": ["v"]}]
        )
    assert "'file_search'" in info.value.message


def test_errors_before_and_during_the_stream(gateway: GatewayServer) -> None:
    sdk = client(gateway)
    with pytest.raises(openai.BadRequestError) as info:
        sdk.responses.create(model=MODEL, input="@@error:400@@")
    assert info.value.status_code == 400
    with sdk.responses.stream(model=MODEL, input="@@text:a b c d e f@@ @@cut@@") as stream:
        events = list(stream)
    assert [e.type for e in events[-2:]] == ["error", "response.failed"]
    last = events[-1]
    assert last.type == "response.failed"
    failed = last.response
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "server_error"


def test_previous_response_id_unknown_is_a_404(gateway: GatewayServer) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client(gateway).responses.create(model=MODEL, input="hi", previous_response_id="resp_x")
    assert "resp_x" in info.value.message


def test_a_response_is_visible_only_to_the_key_that_made_it(gateway_factory: Any) -> None:
    gateway = gateway_factory(keys=[{"name": "a", "key": "kgw-a"}, {"name": "b", "key": "kgw-b"}])
    mine, theirs = client(gateway, "kgw-a"), client(gateway, "kgw-b")
    made = mine.responses.create(model=MODEL, input="@@text:secret@@")
    assert mine.responses.retrieve(made.id).output_text == "secret"
    with pytest.raises(openai.NotFoundError):
        theirs.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        theirs.responses.create(model=MODEL, input="hi", previous_response_id=made.id)
    with pytest.raises(openai.NotFoundError):
        theirs.responses.delete(made.id)
    mine.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError):
        mine.responses.retrieve(made.id)


def test_raw_stream_has_event_lines(gateway: GatewayServer) -> None:
    sdk = client(gateway)
    raw = sdk.responses.with_raw_response.create(model=MODEL, input="@@text:x@@", stream=True)
    text = raw.http_response.read().decode()
    blocks = [b for b in text.split("\n\n") if b]
    for block in blocks:
        event, data = block.split("\n")
        assert event.removeprefix("event: ") == orjson.loads(data.removeprefix("data: "))["type"]

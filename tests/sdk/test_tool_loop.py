"""run_tools against the emulator: a tool's result scripts the model's next step (markers in
tool results count, docs/emulator.md), so multi-step tasks, endless loops and bad arguments are
real model turns, not mocks."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from pydantic import BaseModel

from kimi_gateway.emulator.script import DEFAULT_REASONING, TOOL_RESULT_PREFIX
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.sdk import Kimi, RepeatPolicy, ToolAudit, raw_tool, tool
from kimi_gateway.sdk.toolloop import FINAL_TEXT

from .conftest import chat_bodies


def search(query: str) -> str:
    """Search the library.

    Args:
        query: what to look for
    """
    return f'found doc 7 for {query} @@tool:fetch {{"doc_id": 7}}@@'


def fetch(doc_id: int) -> str:
    """Fetch a document by id."""
    return f"doc {doc_id} says 42 @@text:The answer is 42.@@"


def test_a_multi_step_task_completes(kimi: Kimi, kimi_emulator: EmulatorServer) -> None:
    run = kimi.run_tools(
        'What is the answer? @@tool:search {"query": "answer"}@@',
        tools=[search, fetch],
        model="kimi-k2.6",
    )
    assert run.stopped == "answered"
    assert [c.name for c in run.tool_calls] == ["search", "fetch"]
    assert [(a.name, a.outcome, a.arguments) for a in run.audit] == [
        ("search", "ok", '{"query": "answer"}'),
        ("fetch", "ok", '{"doc_id": 7}'),
    ]
    assert len(run.steps) == 3
    assert (
        run.text
        == f"{TOOL_RESULT_PREFIX}doc 7 says 42 @@text:The answer is 42.@@\nThe answer is 42."
    )
    assert [m["role"] for m in run.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    last = chat_bodies(kimi_emulator)[-1]["messages"]
    assert isinstance(last, list)
    assert last[2]["tool_call_id"] == run.tool_calls[0].id
    assert last[4]["content"] == "doc 7 says 42 @@text:The answer is 42.@@"
    assert run.usage.output == sum(s.result.usage.output for s in run.steps)


def test_a_tool_asked_for_forever_is_stopped_with_a_final_answer(
    kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    calls: list[str] = []

    def read(path: str) -> str:
        """Read a file."""
        calls.append(path)
        return f'contents of {path} @@tool:read {{"path": "{path}"}}@@'

    run = kimi.run_tools(
        'Read it @@tool:read {"path": "a.txt"}@@', tools=[read], model="kimi-k2.6", max_steps=30
    )
    assert run.stopped == "repeated_calls"
    assert calls == ["a.txt"] * 7  # the 8th identical call is not run
    assert [a.outcome for a in run.audit] == ["ok"] * 7 + ["repeated"]
    nudges = [m for m in run.messages if "<system-reminder>" in str(m.get("content"))]
    assert [
        str(m["content"]).count("3 times") + str(m["content"]).count("5 times") for m in nudges
    ] == [1, 1]
    final = chat_bodies(kimi_emulator)[-1]
    assert final["tool_choice"] == "none"
    assert run.messages[-2] == {"role": "user", "content": FINAL_TEXT}
    assert "tool_calls" not in run.messages[-1]
    assert run.text == run.steps[-1].result.text
    assert run.text.startswith(TOOL_RESULT_PREFIX + "Not run: read was called")


def test_max_steps_forces_a_final_answer_with_tools_off(kimi: Kimi) -> None:
    ticks: list[int] = []

    def tick(n: int) -> str:
        """Count."""
        ticks.append(n)
        return f'tick {n} @@tool:tick {{"n": {n + 1}}}@@'

    run = kimi.run_tools('Go @@tool:tick {"n": 1}@@', tools=[tick], max_steps=4)
    assert (run.stopped, ticks) == ("max_steps", [1, 2, 3, 4])
    assert len(run.steps) == 5
    assert run.steps[-1].result.tool_calls == ()
    assert run.text == f'{TOOL_RESULT_PREFIX}tick 4 @@tool:tick {{"n": 5}}@@'


def test_invalid_arguments_never_reach_the_function(kimi: Kimi) -> None:
    reached: list[tuple[int, int]] = []

    def add(a: int, b: int) -> int:
        """Add two integers."""
        reached.append((a, b))
        return a + b

    bad = [
        '{"a": "one", "b": 2}',  # wrong type (no coercion: strict, as the schema says)
        '{"a": 1}',  # missing argument
        '{"a": 1, "b": 2, "c": 3}',  # an argument the schema does not allow
        '{"a": 1, "b"',  # not JSON
    ]
    for arguments in bad:
        run = kimi.run_tools(f"@@tool:add {arguments}@@", tools=[add])
        [audit] = run.audit
        assert (audit.outcome, audit.arguments) == ("invalid_arguments", arguments)
        assert run.messages[2]["content"].startswith("Error: invalid arguments for add:")
    assert reached == []
    good = kimi.run_tools('@@tool:add {"a": 2, "b": 3}@@', tools=[add])
    assert (good.audit[0].outcome, good.audit[0].content, reached) == ("ok", "5", [(2, 3)])


def test_invalid_arguments_of_a_raw_schema_never_reach_its_handler(kimi: Kimi) -> None:
    reached: list[dict[str, Any]] = []
    spec = {
        "type": "function",
        "function": {
            "name": "book",
            "parameters": {
                "type": "object",
                "properties": {
                    "room": {"type": "string", "enum": ["red", "blue"]},
                    "people": {"type": "integer", "minimum": 1},
                },
                "required": ["room", "people"],
            },
        },
    }

    def handle(**arguments: Any) -> str:
        reached.append(arguments)
        return "booked"

    booking = raw_tool(spec, handle)
    run = kimi.run_tools('@@tool:book {"room": "green", "people": 0}@@', tools=[booking])
    assert run.audit[0].outcome == "invalid_arguments"
    assert (
        run.audit[0].error
        == "room: 'green' is not one of 'red', 'blue'; people: must be at least 1"
    )
    assert reached == []
    kimi.run_tools('@@tool:book {"room": "red", "people": 2}@@', tools=[booking])
    assert reached == [{"room": "red", "people": 2}]


class Order(BaseModel):
    item: str
    quantity: int = 1


def test_pydantic_model_arguments_are_validated_and_passed_as_models(kimi: Kimi) -> None:
    seen: list[Order] = []

    def place(order: Order, note: str | None = None) -> dict[str, Any]:
        """Place an order."""
        seen.append(order)
        return {"placed": order.item, "note": note}

    run = kimi.run_tools('@@tool:place {"order": {"item": "tea", "quantity": 2}}@@', tools=[place])
    assert seen == [Order(item="tea", quantity=2)]
    assert run.audit[0].content == '{"placed":"tea","note":null}'


def test_exceptions_and_timeouts_go_back_as_tool_errors(kimi: Kimi) -> None:
    def broken(x: int) -> str:
        """Fails."""
        raise RuntimeError(f"disk {x} is gone")

    release = threading.Event()

    @tool(timeout=0.2)
    def slow() -> str:
        """Never finishes in time."""
        release.wait(5)
        return "late"

    @tool(timeout=0.2)
    async def slower() -> str:
        """Never finishes in time either."""
        await asyncio.sleep(5)
        return "late"

    run = kimi.run_tools(
        '@@tool:broken {"x": 3}@@ @@tool:slow@@ @@tool:slower@@', tools=[broken, slow, slower]
    )
    release.set()
    outcomes = {a.name: (a.outcome, a.content) for a in run.audit}
    assert outcomes == {
        "broken": ("error", "Error: broken failed: RuntimeError: disk 3 is gone"),
        "slow": ("timeout", "Error: slow timed out: the tool did not finish within 0.2 s."),
        "slower": ("timeout", "Error: slower timed out: the tool did not finish within 0.2 s."),
    }
    assert run.stopped == "answered"


def test_parallel_calls_run_concurrently_and_every_call_is_audited(kimi: Kimi) -> None:
    barrier = threading.Barrier(2, timeout=5)  # passes only if both calls run at once

    def left() -> str:
        """Left."""
        barrier.wait()
        return "L"

    async def right() -> str:
        """Right (async)."""
        await asyncio.to_thread(barrier.wait)
        return "R"

    audits: list[ToolAudit] = []
    run = kimi.run_tools("@@tool:left@@ @@tool:right@@", tools=[left, right], on_call=audits.append)
    assert [(a.name, a.outcome, a.content) for a in audits] == [
        ("left", "ok", "L"),
        ("right", "ok", "R"),
    ]
    assert list(run.audit) == audits
    assert all(a.duration >= 0 and a.started > 0 and a.step == 0 for a in audits)


def test_kimi_web_search_arguments_go_back_byte_for_byte(
    kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    arguments = '{"search_result":{"search_id":"s-1"}, "usage":{"total_tokens":8933}}'
    run = kimi.run_tools(f"@@tool:$web_search {arguments}@@", tools=["$web_search"])
    assert [a.outcome for a in run.audit] == ["builtin"]
    body = chat_bodies(kimi_emulator)[-1]
    assert body["tools"] == [{"type": "builtin_function", "function": {"name": "$web_search"}}]
    messages = body["messages"]
    assert isinstance(messages, list)
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": run.tool_calls[0].id,
        "name": "$web_search",
        "content": arguments,
    }


@pytest.mark.parametrize("product", ["platform", "kimi_code"])
def test_thinking_with_tools_over_several_turns_on_both_products(
    product: str, kimi: Kimi, code_kimi: Kimi, kimi_emulator: EmulatorServer
) -> None:
    client, model = (kimi, "kimi-k2.6") if product == "platform" else (code_kimi, "kimi-for-coding")

    def step(n: int) -> str:
        """One step of three."""
        return f'step {n} done @@tool:step {{"n": {n + 1}}}@@' if n < 3 else "all steps done"

    run = client.run_tools(
        '@@tool:step {"n": 1}@@', tools=[step], model=model, thinking={"type": "enabled"}
    )
    assert run.stopped == "answered"
    assert [a.arguments for a in run.audit] == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
    assert all(s.result.reasoning == DEFAULT_REASONING for s in run.steps)
    bodies = chat_bodies(kimi_emulator)
    assert len(bodies) == 4
    for body in bodies[1:]:
        messages = body["messages"]
        assert isinstance(messages, list)
        turns = [m for m in messages if m["role"] == "assistant"]
        assert turns
        assert all(m["reasoning_content"] == DEFAULT_REASONING for m in turns)
    path = "/v1/chat/completions" if product == "platform" else "/coding/v1/chat/completions"
    assert {r["path"] for r in kimi_emulator.requests()} == {path}
    assert all(r["status"] == 200 for r in kimi_emulator.requests())


def test_repeat_policy_is_configurable(kimi: Kimi) -> None:
    def ping() -> str:
        """Ping."""
        return "pong @@tool:ping@@"

    run = kimi.run_tools(
        "@@tool:ping@@", tools=[ping], repeat=RepeatPolicy(nudge_at=(2,), stop_at=3)
    )
    assert [a.outcome for a in run.audit] == ["ok", "ok", "repeated"]
    assert run.stopped == "repeated_calls"

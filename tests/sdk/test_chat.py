"""Kimi / AsyncKimi chat against the emulator: typed results, streams that fold to the same
result, tool calls returned as asked, Kimi's errors raised before anything is read, both Kimi
products, settings from arguments over the environment, and an import that stays cheap."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from kimi_gateway.core.usage import Usage
from kimi_gateway.emulator.script import DEFAULT_REASONING
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.sdk import AsyncKimi, Delta, Kimi, KimiError, ToolCall, ToolCallDelta

from .conftest import CODE_KEY, PLATFORM_KEY, chat_bodies

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_chat_returns_text_reasoning_and_usage(kimi: Kimi) -> None:
    result = kimi.chat("Hi @@text:Hello there@@", model="kimi-k2.6")
    assert (result.text, result.reasoning, result.tool_calls) == (
        "Hello there",
        DEFAULT_REASONING,
        (),
    )
    assert result.usage == Usage(input_uncached=17, output=16, reasoning=14)
    assert (result.model, result.stop_reason, result.upstream) == (
        "kimi-k2.6",
        "end_turn",
        "platform",
    )
    assert result.request_id is not None
    assert len(result.request_id) == 8
    assert result.message == {
        "role": "assistant",
        "content": "Hello there",
        "reasoning_content": DEFAULT_REASONING,
    }


def test_stream_yields_deltas_that_fold_to_the_same_result(kimi: Kimi) -> None:
    whole = kimi.chat("@@text:One two three@@", model="kimi-k2.6")
    stream = kimi.chat("@@text:One two three@@", model="kimi-k2.6", stream=True)
    deltas = list(stream)
    assert "".join(d.text for d in deltas) == "One two three"
    assert "".join(d.reasoning for d in deltas) == DEFAULT_REASONING
    first_text = next(i for i, d in enumerate(deltas) if d.text)
    assert all(not d.text for d in deltas[:first_text])
    assert deltas[0].reasoning
    result = stream.result
    assert (result.text, result.reasoning, result.stop_reason) == (
        whole.text,
        whole.reasoning,
        whole.stop_reason,
    )
    assert result.usage.output == whole.usage.output


def test_tool_calls_come_back_as_asked(kimi: Kimi) -> None:
    result = kimi.chat(
        'Weather? @@tool:get_weather {"city": "Paris"}@@', model="kimi-k2.6", tools=[WEATHER]
    )
    assert result.stop_reason == "tool_use"
    [call] = result.tool_calls
    assert (call.name, call.arguments, call.kind) == (
        "get_weather",
        '{"city": "Paris"}',
        "function",
    )
    assert call.parsed() == {"city": "Paris"}
    assert result.message["tool_calls"] == [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    stream = kimi.chat(
        'Weather? @@tool:get_weather {"city": "Rome"}@@',
        model="kimi-k2.6",
        tools=[WEATHER],
        stream=True,
    )
    pieces = [d.tool_call for d in stream if d.tool_call is not None]
    assert pieces[0] == ToolCallDelta(0, pieces[0].id, "get_weather", "")
    assert "".join(p.arguments for p in pieces) == '{"city": "Rome"}'
    assert stream.result.tool_calls == (
        ToolCall(str(pieces[0].id), "get_weather", '{"city": "Rome"}'),
    )


def test_kimi_errors_are_raised_before_anything_is_read(kimi: Kimi) -> None:
    with pytest.raises(KimiError) as caught:
        kimi.chat("@@error:429:exceeded_current_quota_error@@")
    assert (caught.value.kind, caught.value.status) == ("quota_exhausted", 429)
    with pytest.raises(KimiError) as streamed:
        kimi.chat("@@error:400@@", stream=True)
    assert streamed.value.kind == "invalid_request"


def test_a_stream_cut_mid_way_raises(kimi: Kimi) -> None:
    stream = kimi.chat("@@text:a long enough reply to be cut@@ @@cut@@", stream=True)
    with pytest.raises(KimiError):
        list(stream)


def test_kimi_code_with_its_own_key(code_kimi: Kimi, kimi_emulator: EmulatorServer) -> None:
    assert code_kimi.default_model == "kimi-for-coding"
    result = code_kimi.chat("@@text:From Kimi Code@@")
    assert (result.text, result.reasoning, result.model) == (
        "From Kimi Code",
        DEFAULT_REASONING,
        "kimi-for-coding",
    )
    [request] = kimi_emulator.requests()
    assert request["path"] == "/coding/v1/chat/completions"


@pytest.mark.anyio
async def test_async_client_chat_and_stream(akimi: AsyncKimi) -> None:
    result = await akimi.chat([{"role": "user", "content": "@@text:async hello@@"}])
    assert result.text == "async hello"
    stream = await akimi.chat("@@text:async stream@@", stream=True)
    texts = [d.text async for d in stream]
    assert "".join(texts) == "async stream"
    assert stream.result.text == "async stream"
    assert isinstance(Delta(), Delta)


def test_arguments_win_over_the_environment(
    kimi_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, clean_env: None, tmp_path: Path
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", "sk-from-the-environment")
    monkeypatch.setenv("KIMI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("KIMI_DEFAULT_MODEL", "kimi-k2.5")
    with Kimi(PLATFORM_KEY, kimi_emulator.platform_url, data_dir=tmp_path) as kimi:
        assert kimi.settings.api_key is not None
        assert kimi.settings.api_key.get_secret_value() == PLATFORM_KEY
        assert kimi.default_model == "kimi-k2.5"  # not given: the environment's
        assert kimi.chat("@@text:ok@@").text == "ok"
    assert chat_bodies(kimi_emulator)[0]["model"] == "kimi-k2.5"
    with pytest.raises(ValidationError):
        Kimi(PLATFORM_KEY, region="mars")


def test_environment_alone_configures_both_products(
    kimi_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", PLATFORM_KEY)
    monkeypatch.setenv("KIMI_BASE_URL", kimi_emulator.platform_url)
    monkeypatch.setenv("KIMI_CODE_API_KEY", CODE_KEY)
    monkeypatch.setenv("KIMI_CODE_BASE_URL", kimi_emulator.url + "/coding")
    with Kimi() as kimi:
        assert kimi.chat("@@text:p@@", model="kimi-k2.6").upstream == "platform"
        assert kimi.chat("@@text:c@@", model="kimi-for-coding").upstream == "code_openai"


def test_importing_the_package_loads_no_sdk_server_or_emulator() -> None:
    code = (
        "import sys, kimi_gateway\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('kimi_gateway.'))\n"
        "assert loaded == [], loaded\n"
        "from kimi_gateway import Kimi\n"
        "heavy = [m for m in sys.modules if m.startswith(('kimi_gateway.server',"
        " 'kimi_gateway.emulator', 'kimi_gateway.cli', 'sqlalchemy', 'uvicorn', 'starlette'))]\n"
        "assert heavy == [], heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _loop_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "kimi-sdk-loop")


def test_a_dropped_sync_client_stops_its_loop(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    before = _loop_threads()
    client = Kimi(PLATFORM_KEY, kimi_emulator.platform_url, data_dir=tmp_path)
    assert client.chat("@@text:bye@@").text == "bye"
    assert _loop_threads() == before + 1
    del client
    gc.collect()
    assert _loop_threads() == before
    closed = Kimi(PLATFORM_KEY, kimi_emulator.platform_url, data_dir=tmp_path)
    closed.close()
    with pytest.raises(RuntimeError, match="closed"):
        closed.chat("@@text:no@@")


def test_async_parts_made_outside_a_loop_work_inside_one(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    client = AsyncKimi(PLATFORM_KEY, kimi_emulator.platform_url, data_dir=tmp_path)
    conversation = client.conversation(model="kimi-k2.6")  # no event loop runs here
    assert conversation.window == 262144

    async def talk() -> str:
        async with client:
            return (await conversation.say("@@text:made outside@@")).text

    assert asyncio.run(talk()) == "made outside"

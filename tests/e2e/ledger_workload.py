"""A mixed workload for the ledger's end-to-end tests, and the comparison of a ledger with the
emulator's own record of what it served (emulator/served.py).

The workload: OpenAI and Anthropic SDK clients, streaming and not, text and tool calls
(``$web_search`` included), Kimi errors before the first byte, a failure mid-stream, a cut
stream, and raw clients that disconnect after the first event of a slow stream. Models pick the
emulator's behaviour: ``kimi-k2.5`` streams slowly (clients hang up early), ``kimi-k2-0905-preview``
fails mid-stream (content filter).
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import Any, cast

import anthropic
import httpx
import openai

from kimi_gateway.emulator.server import EmulatorServer

SLOW_MODEL = "kimi-k2.5"
FAILING_MODEL = "kimi-k2-0905-preview"
EMULATOR_FAULTS = [
    # ~60 events 200 ms apart: a client that hangs up after the first one is always gone (and
    # the gateway has closed the upstream call) long before the reply could end.
    {"kind": "slow_chunks", "delay_ms": 200, "model": SLOW_MODEL},
    {"kind": "content_filter_mid", "after_chunks": 2, "model": FAILING_MODEL},
]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}
ANTHROPIC_WEATHER = {
    "name": "get_weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
Job = Callable[[str, str], Any]  # (gateway root URL, gateway key) → anything


def _openai(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)


def _anthropic(url: str, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0, timeout=30)


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def openai_text(url: str, key: str) -> Any:
    client = _openai(url, key)
    return client.chat.completions.create(model="kimi-k2.6", messages=_user("@@text:hello@@"))


def openai_stream_tools(url: str, key: str) -> Any:
    client = _openai(url, key)
    stream = client.chat.completions.create(
        model="kimi-k2.6",
        messages=_user('@@tool:get_weather {"city":"Paris"}@@ @@tool:$web_search {"q":"x"}@@'),
        tools=cast(Any, [WEATHER, SEARCH]),  # builtin_function is Kimi's, not in the SDK types
        stream=True,
        stream_options={"include_usage": True},
    )
    return list(stream)


def anthropic_text(url: str, key: str) -> Any:
    client = _anthropic(url, key)
    return client.messages.create(
        model="kimi-k2.6", max_tokens=200, messages=_user("@@text:bonjour@@")
    )


def anthropic_stream_tool(url: str, key: str) -> Any:
    client = _anthropic(url, key)
    with client.messages.stream(
        model="kimi-k2.6",
        max_tokens=300,
        messages=_user('@@tool:get_weather {"city":"Oslo"}@@'),
        tools=[ANTHROPIC_WEATHER],  # type: ignore[list-item]
    ) as stream:
        return stream.get_final_message()


def openai_error(url: str, key: str) -> Any:
    try:
        _openai(url, key).chat.completions.create(
            model="kimi-k2.6", messages=_user("@@error:429:exceeded_current_quota_error@@")
        )
    except openai.APIStatusError as exc:
        return exc.status_code
    raise AssertionError("expected an error")


def openai_mid_stream_failure(url: str, key: str) -> Any:
    stream = _openai(url, key).chat.completions.create(
        model=FAILING_MODEL, messages=_user("@@text:one two three four five six@@"), stream=True
    )
    try:
        return list(stream)
    except openai.APIError as exc:
        return exc


def openai_cut(url: str, key: str) -> Any:
    stream = _openai(url, key).chat.completions.create(
        model="kimi-k2.6", messages=_user("@@text:a b c d e f@@ @@cut@@"), stream=True
    )
    try:
        return list(stream)
    except openai.APIError as exc:
        return exc


def disconnecting_client(url: str, key: str) -> Any:
    body = {
        "model": SLOW_MODEL,
        "stream": True,
        "messages": _user("@@text:" + " ".join(["word"] * 40) + "@@"),
    }
    headers = {"authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=url, timeout=30, headers=headers) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as reply,
    ):
        return next(line for line in reply.iter_lines() if line.startswith("data: "))


MIX: tuple[Job, ...] = (
    openai_text,
    openai_stream_tools,
    anthropic_text,
    anthropic_stream_tool,
    openai_error,
    openai_mid_stream_failure,
    openai_cut,
    disconnecting_client,
)


def run_mixed(targets: list[tuple[str, str]], rounds: int, workers: int = 16) -> int:
    """Every job of MIX ``rounds`` times, spread over ``targets`` (gateway URL, key), in
    parallel; the number of jobs run."""
    jobs = [
        (job, targets[(n * len(MIX) + i) % len(targets)])
        for n in range(rounds)
        for i, job in enumerate(MIX)
    ]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(job, url, key) for job, (url, key) in jobs]
        for future in futures:
            future.result()
    return len(jobs)


def served(emulator: EmulatorServer, timeout: float = 20) -> list[dict[str, Any]]:
    """The emulator's request log once no generation is in flight: a reply whose client went
    away is marked ``cancelled`` only when the emulator sees the hang-up."""
    deadline = time.monotonic() + timeout
    while emulator.state.in_flight > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    return emulator.requests()


def emulator_totals(entries: list[dict[str, Any]]) -> dict[str, int]:
    """What the emulator served: generation requests, and the tokens and tool calls of the
    replies that reached the gateway whole."""
    generations = [
        e
        for e in entries
        if e["method"] == "POST" and e["path"].endswith(("/chat/completions", "/messages"))
    ]
    served = [e for e in generations if "usage" in e and not e.get("cancelled")]
    return {
        "calls": len(generations),
        "prompt": sum(e["usage"]["prompt_tokens"] for e in served),
        "cached": sum(e["usage"]["cached_tokens"] for e in served),
        "output": sum(e["usage"]["completion_tokens"] for e in served),
        "reasoning": sum(e["usage"]["reasoning_tokens"] for e in served),
        "tool_calls": sum(len(e["tool_calls"]) for e in served),
    }


def ledger_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The same totals from ledger rows (upstream calls: each row's attempts)."""
    return {
        "calls": sum(r["attempts"] for r in rows),
        "prompt": sum(
            r["input_uncached"] + r["input_cache_read"] + r["input_cache_write"] for r in rows
        ),
        "cached": sum(r["input_cache_read"] for r in rows),
        "output": sum(r["output"] for r in rows),
        "reasoning": sum(r["reasoning"] for r in rows),
        "tool_calls": sum(r["tool_calls"] for r in rows),
    }

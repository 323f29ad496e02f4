"""The Vercel AI SDK's default OpenAI provider (`ai` 7, `@ai-sdk/openai` 4: `openai(model)`
speaks the Responses API) through the gateway to the emulator, with the Node 24 that
.ci/install-clients installs: a text turn, a tool turn the SDK runs itself (its second step
names the earlier reasoning by `item_reference`, which the gateway resolves from its store, so
Kimi gets the reasoning back) and a streamed turn. Skipped only when not installed, never in CI.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
from clients.real_clients import CLIENTS, INSTALL_HINT, isolated_env, node24, require_installed
from gateway_server import GatewayServer

from kimi_gateway.emulator.server import EmulatorServer

SCRIPT = Path(__file__).parent / "clients" / "vercel_ai.mjs"
PROVIDER = CLIENTS / "node_modules" / "@ai-sdk" / "openai" / "package.json"
REASONING = "The user wrote to me. I will answer with the scripted reply."


def test_text_tool_and_stream_turns(
    gateway: GatewayServer, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    node = node24()
    require_installed(
        None if node is not None and PROVIDER.is_file() else f"the Vercel AI SDK {INSTALL_HINT}"
    )
    assert node is not None
    env = {
        **isolated_env(tmp_path),
        "CLIENTS": str(CLIENTS),
        "BASE_URL": gateway.openai_url,
        "API_KEY": "anything",
        "MODEL": "kimi-k2.6",
        "TEXT_PROMPT": "@@text:Hello from the AI SDK@@",
        "TOOL_PROMPT": '@@tool:weather {"city":"Paris"}@@',
    }
    done = subprocess.run(
        [str(node), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    turns: dict[str, Any] = {
        line["turn"]: line for line in map(orjson.loads, done.stdout.splitlines())
    }
    assert turns["text"]["text"] == "Hello from the AI SDK"
    assert turns["text"]["usage"]["outputTokenDetails"]["reasoningTokens"] > 0
    assert turns["tool"] == {
        "turn": "tool",
        "text": "TOOL_RESULT_SEEN: sunny in Paris",
        "ran": ["Paris"],
        "steps": 2,
    }
    assert turns["stream"]["text"] == "Hello from the AI SDK"
    bodies = [r["body"] for r in kimi_emulator.requests() if r["path"] == "/v1/chat/completions"]
    tool_step = bodies[2]
    assistant = next(m for m in tool_step["messages"] if m["role"] == "assistant")
    assert assistant["reasoning_content"] == REASONING
    assert assistant["tool_calls"][0]["function"]["name"] == "weather"

"""The YAML `files` and `anthropic` sections reach a running emulator (docs/kimi.md §9, §17.9,
§2.2; §14; docs/kimi.md §F2.11), and the §1.1 response headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pydantic
import pytest

from kimi_gateway.emulator.config import (
    AnthropicSwitches,
    EmulatorConfig,
    FileSettings,
    load_emulator_config,
)
from kimi_gateway.emulator.server import EmulatorServer

from .conftest import PLATFORM_KEY
from .test_anthropic_support import CODING, post

YAML = """\
files:
  max_files: 1
  only_file_extract: true
  ok_status: ready
  file_count_message: help_center
anthropic:
  coding_ping: true
  reject_tool_reference: false
"""

TOOL_REFERENCE_TURN = [
    {"role": "user", "content": "find a tool"},
    {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "ts1", "name": "ToolSearch", "input": {}}],
    },
    {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "ts1",
                "content": [{"type": "tool_reference", "tool_name": "WebSearch"}],
            }
        ],
    },
]


def _files(server: EmulatorServer) -> Any:
    return openai.OpenAI(base_url=server.platform_url, api_key=PLATFORM_KEY, max_retries=0).files


def test_yaml_sections_load(tmp_path: Path) -> None:
    path = tmp_path / "emulator.yaml"
    path.write_text(YAML)
    config = load_emulator_config(str(path))
    assert config.files == FileSettings(
        max_files=1, only_file_extract=True, ok_status="ready", file_count_message="help_center"
    )
    assert config.anthropic == AnthropicSwitches(coding_ping=True, reject_tool_reference=False)
    assert EmulatorConfig().files.max_file_bytes == 100 * 1024 * 1024


@pytest.mark.parametrize(
    "fields",
    [
        {"files": {"ok_status": "done"}},
        {"files": {"file_count_message": "other"}},
        {"files": {"max_files": 0}},
        {"anthropic": {"ping": True}},
    ],
)
def test_bad_switch_values_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        EmulatorConfig.model_validate(fields)


def test_file_switches_from_yaml_reach_the_files_api(
    tmp_path: Path, kimi_emulator_factory: Any
) -> None:
    path = tmp_path / "emulator.yaml"
    path.write_text(YAML)
    files = _files(kimi_emulator_factory(load_emulator_config(str(path))))
    with pytest.raises(openai.BadRequestError) as legacy:
        files.create(file=("cat.png", b"\x89PNG"), purpose="image")
    assert legacy.value.body == {
        "type": "invalid_request_error",
        "message": "Invalid purpose: only 'file-extract' accepted",  # §2.2 [O], 2024-25
    }
    created = files.create(file=("a.txt", b"hello"), purpose="file-extract")
    assert (created.status, created.filename) == ("ready", "a.txt")  # §9/§17.9 OAS example
    with pytest.raises(openai.BadRequestError) as full:
        files.create(file=("b.txt", b"hello"), purpose="file-extract")
    assert full.value.body == {
        "type": "invalid_request_error",
        "message": "Too many uploaded files",
    }


def test_reconfigure_applies_file_switches_and_the_default_restores_them(
    kimi_emulator: EmulatorServer,
) -> None:
    kimi_emulator.reconfigure(EmulatorConfig(files=FileSettings(max_file_bytes=4)))
    files = _files(kimi_emulator)
    with pytest.raises(openai.BadRequestError) as large:
        files.create(file=("a.txt", b"hello"), purpose="file-extract")
    assert large.value.body["message"] == (  # type: ignore[index]
        "File size is too large, max file size is 4B, please confirm and re-upload the file"
    )
    kimi_emulator.reconfigure(EmulatorConfig())
    assert files.create(file=("a.txt", b"hello"), purpose="file-extract").status == "ok"


def test_tool_reference_switch(kimi_emulator: EmulatorServer, kimi_emulator_factory: Any) -> None:
    body = {"model": "kimi-for-coding", "max_tokens": 100, "messages": TOOL_REFERENCE_TURN}
    refused = post(kimi_emulator, CODING, body)
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        400,
        "Invalid request Error",
    )
    server = kimi_emulator_factory(anthropic={"reject_tool_reference": False})
    accepted = post(server, CODING, body)
    assert accepted.json()["content"][-1] == {
        "type": "text",
        "text": "TOOL_RESULT_SEEN: WebSearch",
    }


# --- §1.1 response headers -----------------------------------------------------------------


def test_kimi_response_headers(kimi_emulator: EmulatorServer) -> None:
    chat = openai.OpenAI(base_url=kimi_emulator.platform_url, api_key=PLATFORM_KEY, max_retries=0)
    raw = chat.chat.completions.with_raw_response.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": "@@delay:60@@hi"}],
    )
    headers = raw.headers
    assert (headers["msh-uid"], headers["msh-gid"], headers["server"]) == (
        "emulator-user",
        "enterprise-tier-5",
        "nginx",
    )
    assert headers["x-trace-id"] == headers["msh-request-id"]
    name, duration = headers["server-timing"].split("; dur=")
    assert name == "inner"
    assert int(duration) >= 60  # the scripted delay is server time
    assert "x-msh-trace-id" not in headers


def test_429_carries_x_msh_trace_id_and_configured_ids(kimi_emulator_factory: Any) -> None:
    server = kimi_emulator_factory(limits={"uid": "org-7", "gid": "tier-0", "rpm": 1})
    chat = openai.OpenAI(base_url=server.platform_url, api_key=PLATFORM_KEY, max_retries=0)
    chat.chat.completions.create(model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.RateLimitError) as limited:
        chat.chat.completions.create(model="kimi-k2.6", messages=[{"role": "user", "content": "x"}])
    headers = limited.value.response.headers
    assert headers["x-msh-trace-id"] == headers["msh-request-id"]  # §1.1 [3M] HALRO
    assert (headers["msh-uid"], headers["msh-gid"]) == ("org-7", "tier-0")

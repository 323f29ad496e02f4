"""The same client pointed at a running gateway (``gateway_url=``): the same results, streams,
tool loop, token counts and model list as in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimi_gateway.emulator.script import DEFAULT_REASONING
from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.sdk import Kimi, KimiError

from .gateway import running_gateway


def lookup(city: str) -> str:
    """Look a city up."""
    return f"{city} is large @@text:done@@"


def test_gateway_mode_matches_in_process(
    kimi: Kimi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    direct = kimi.chat("@@text:same either way@@", model="kimi-k2.6")
    with (
        running_gateway(kimi_emulator, tmp_path / "gw") as url,
        Kimi(gateway_url=url + "/v1", data_dir=tmp_path / "client") as remote,
    ):
        via = remote.chat("@@text:same either way@@", model="kimi-k2.6")
        assert (via.text, via.reasoning, via.tool_calls, via.stop_reason, via.model) == (
            direct.text,
            direct.reasoning,
            direct.tool_calls,
            direct.stop_reason,
            direct.model,
        )
        assert via.reasoning == DEFAULT_REASONING
        assert via.usage.output == direct.usage.output
        assert via.request_id is not None
        stream = remote.chat("@@text:streamed via gateway@@", stream=True)
        assert "".join(d.text for d in stream) == "streamed via gateway"
        run = remote.run_tools(
            '@@tool:lookup {"city": "Oslo"}@@', tools=[lookup], model="kimi-k2.6"
        )
        assert (run.stopped, [a.outcome for a in run.audit]) == ("answered", ["ok"])
        assert run.text.endswith("done")
        count = remote.count_tokens("hello there", model="kimi-k2.6")
        assert count == kimi.count_tokens("hello there", model="kimi-k2.6")
        assert "kimi-k2.6" in [m.id for m in remote.models()]
        doc = tmp_path / "memo.txt"
        doc.write_text("The memo says: ship it.")
        answer = remote.files.ask(doc, "What does it say? @@text:Ship it.@@")
        assert (answer.text, remote.files.uploads) == ("Ship it.", 1)
        remote.files.ask(doc, "Again? @@text:Yes.@@")
        assert remote.files.uploads == 1
        with pytest.raises(KimiError) as caught:
            remote.chat("@@error:429:exceeded_current_quota_error@@")
        assert caught.value.kind == "quota_exhausted"


def test_gateway_mode_names_the_limit_that_ran_out(
    kimi_emulator: EmulatorServer, tmp_path: Path, clean_env: None
) -> None:
    """The remote path's calls go through the engine's UpstreamHttp, as in-process upstream
    calls do: the wait for the gateway's response head is bounded by ``first_byte_timeout``
    and named so (before, the session's read timer was reported as the idle limit)."""
    with (
        running_gateway(kimi_emulator, tmp_path / "gw") as url,
        Kimi(
            gateway_url=url,
            data_dir=tmp_path / "client",
            first_byte_timeout=0.5,
            idle_timeout=30,
        ) as remote,
    ):
        with pytest.raises(KimiError) as caught:
            remote.chat("@@delay:1500@@ @@text:too late@@", model="kimi-k2.6")
        assert caught.value.kind == "timeout"
        assert str(caught.value) == "the kimi-gateway sent no response head within 0.5 s"
        assert remote.chat("@@text:on time@@", model="kimi-k2.6").text == "on time"

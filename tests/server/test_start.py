"""Start-up: the bind rule, the banner, emulator mode, and the access-log line."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from kimi_gateway.core.model import Diagnostic
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.usage import Usage
from kimi_gateway.reliability.wrapper import innermost
from kimi_gateway.server.access_log import AccessLog, AccessRecord
from kimi_gateway.server.app import create_app
from kimi_gateway.server.banner import is_loopback, refusal
from kimi_gateway.settings import Settings
from kimi_gateway.upstreams.kimi.upstream import KimiUpstream


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_refusal() -> None:
    assert refusal("127.0.0.1", keys_configured=False) is None
    assert refusal("0.0.0.0", keys_configured=True) is None
    message = refusal("0.0.0.0", keys_configured=False)
    assert message is not None
    assert message.startswith("refusing to listen on 0.0.0.0 without gateway keys")


@pytest.mark.anyio
async def test_emulator_mode_without_a_kimi_key(tmp_path: Path) -> None:
    """No key: the lifespan starts the emulator, says so, and marks every reply."""
    said: list[str] = []
    settings = Settings(data_dir=tmp_path, access_log="off")
    app = create_app(settings, announce=said.append)
    await app.start()
    try:
        assert app.runtime is not None
        assert app.runtime.emulated is True
        emulator = app.runtime.emulator
        assert emulator is not None
        assert sorted(app.runtime.upstreams) == [
            "code_anthropic",
            "code_openai",
            "platform",
            "platform_anthropic",
        ]
        assert all(
            isinstance(u, KimiUpstream) and u.surface.base_url.startswith(emulator.url)
            for u in map(innermost, app.runtime.upstreams.values())  # under retry, breaker
        )
        [banner] = said
        assert "NO KIMI KEY CONFIGURED" in banner
        assert "OFFLINE EMULATOR" in banner
        assert "auth: OPTIONAL" in banner
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            reply = await client.post(
                "/v1/chat/completions",
                json={
                    "model": "kimi-k2.6",
                    "messages": [{"role": "user", "content": "@@text:hi@@"}],
                },
            )
            unknown = await client.get("/nope")
        assert reply.status_code == 200
        assert reply.json()["choices"][0]["message"]["content"] == "hi"
        assert reply.headers["x-kimi-gateway-upstream"] == "emulator"
        assert unknown.headers["x-kimi-gateway-upstream"] == "emulator"
    finally:
        await app.stop()
    assert app.runtime is None


def test_access_log_line(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    log = AccessLog(str(path))
    log.start()
    record = AccessRecord("req_1", "POST", "messages", started=10.0, key_id="key_1")
    record.status = 200
    record.outcome = Outcome(
        "anthropic_messages",
        model="claude-x",
        stream=True,
        upstream="platform",
        upstream_model="kimi-k2.6",
        usage=Usage(input_uncached=20, input_cache_read=10, output=5),
        usage_seen=True,
        diagnostics=(Diagnostic("dropped_param", "top_k"),),
    )
    log.write(record.line(10.25, 1700000000.0))
    log.stop()
    assert orjson.loads(path.read_text()) == {
        "ts": 1700000000.0,
        "request_id": "req_1",
        "key_id": "key_1",
        "method": "POST",
        "route": "messages",
        "model": "claude-x",
        "upstream": "platform",
        "upstream_model": "kimi-k2.6",
        "stream": True,
        "status": 200,
        "latency_ms": 250.0,
        "tokens": {"input": 30, "cached": 10, "output": 5},
        "diagnostics": ["dropped_param: top_k"],
    }


def test_settings_new_fields_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from kimi_gateway.settings import SettingsError, load_settings

    monkeypatch.setenv("KIMI_GATEWAY_MAX_TOOLS", "64")
    monkeypatch.setenv("KIMI_GATEWAY_IDLE_TIMEOUT", "2.5")
    monkeypatch.setenv("KIMI_GATEWAY_ANTHROPIC_ROUTE", "translate")
    settings = load_settings(None)
    assert (settings.max_tools, settings.idle_timeout, settings.anthropic_route) == (
        64,
        2.5,
        "translate",
    )
    monkeypatch.setenv("KIMI_GATEWAY_TOTAL_TIMEOUT", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    assert "total_timeout (from environment variable KIMI_GATEWAY_TOTAL_TIMEOUT)" in str(
        caught.value
    )


def test_database_url_defaults_to_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).resolved_database_url() == (
        f"sqlite:///{tmp_path / 'kimi-gateway.db'}"
    )
    assert Settings(database_url="sqlite://").resolved_database_url() == "sqlite://"

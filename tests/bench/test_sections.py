"""The production, SDK and peer parts of the benchmark that need no timing: the production
targets' config is one the gateway accepts with the features on, and the report's sections
compute the right ratios and verdicts from given numbers."""

import json
import re
from pathlib import Path

from benchkit import peers, production, sdk_cell, sections
from benchkit.cells import Cell, Measurement, Results, TargetRun, grid
from benchkit.targets import Lineup
from benchkit.wrk import WrkResult

from kimi_gateway.settings import load_settings


def _m(cell: Cell, requests: int, p50_us: int, cpu_seconds: float) -> Measurement:
    wrk = WrkResult(requests, 5_000_000, 0, p50_us, p50_us, p50_us, float(p50_us))
    return Measurement(cell, wrk, cpu_seconds)


def _run(name: str, cpu_seconds: float, p50_us: int = 1_000, same_only: bool = False) -> TargetRun:
    run = TargetRun(name, name)
    for cell in grid():
        if not same_only or cell.path == "same":
            run.measurements.append(_m(cell, 1_000, p50_us, cpu_seconds))
    return run


def test_production_config_turns_every_feature_on(tmp_path: Path) -> None:
    config = tmp_path / "prod.yaml"
    state = production.SharedState("kimi-gateway-bench-x", "bench_x")
    config.write_text(
        "api_key: sk-up\nbase_url: http://127.0.0.1:9/v1\n"
        + production.production_config(
            redis_url=production.REDIS, prefix=state.prefix, database_url=state.database_url
        )
    )
    settings = load_settings(config)
    assert [k.name for k in settings.keys] == ["bench"]
    assert settings.keys[0].key is not None
    assert settings.keys[0].key.get_secret_value() == "sk-bench-client-key"
    limits = settings.reliability.limits
    assert limits.accounts["platform"].concurrency == 100_000
    assert limits.keys.rpm == 100_000_000
    assert settings.reliability.retry.enabled
    assert settings.reliability.breaker.enabled
    assert settings.ledger.enabled
    assert [(b.key, b.period) for b in settings.ledger.budgets] == [
        ("config:bench", "day"),
        (None, "month"),
    ]
    assert settings.redis_url == production.REDIS
    assert settings.reliability.redis_prefix == "kimi-gateway-bench-x-rel"
    assert settings.ledger.redis_prefix == "kimi-gateway-bench-x-budget:"
    assert settings.resolved_database_url().endswith("search_path%3Dbench_x")


def test_production_section_marks_the_ten_percent_budget() -> None:
    bare = _run("gateway-bare", 0.8)
    gateway = _run("gateway", 1.0)  # 1.0 ms/req
    prod = _run("gateway-prod", 1.05, p50_us=1_200)
    prod.measurements[1] = _m(grid()[1], 1_000, 1_200, 1.2)  # same/non-stream/c32: 1.2×
    shared = _run("gateway-prod-shared", 1.5, p50_us=3_000)
    text = sections.production_section(Results([gateway, bare, prod, shared], {}, 5.0))
    assert "(7 cells met, 1 not)" in text
    rows = [line for line in text.splitlines() if line.startswith("| same/non-stream")]
    assert rows == [
        "| same/non-stream/c1 | 0.800 | 1.000 | 1.050 | 1.500 | 1.050 | **met** | 1.312 | 1.500 "
        "| +0.200 | +2.000 |",
        "| same/non-stream/c32 | 0.800 | 1.000 | 1.200 | 1.500 | 1.200 | **not met** | 1.500 "
        "| 1.500 | +0.200 | +2.000 |",
    ]
    assert sections.production_section(Results([gateway], {}, 5.0)) == ""


def test_sdk_section_compares_with_the_gateway() -> None:
    results = Results([_run("gateway", 1.0), _run("sdk", 0.8, same_only=True)], {}, 5.0)
    lines = sections.sdk_section(results).splitlines()
    assert "| same/stream/c32 | 0.800 | 1.000 | 0.80× | 200 | 1.000 |" in lines
    assert not any(line.startswith("| translated") for line in lines)


def test_peers_section_takes_the_cheapest_peer_per_cell() -> None:
    portkey = _run("portkey", 2.0, same_only=True)
    ccr = TargetRun("ccr", "ccr")
    for cell in grid():
        if cell.path == "translated":
            ccr.measurements.append(_m(cell, 500, 1_000, 1.0))  # 2 ms/req, 100 req/s
    results = Results([_run("gateway", 0.5), portkey, ccr], {}, 5.0)
    lines = sections.peers_section(results).splitlines()
    assert "| same/stream/c1 | portkey | 2.000 | 0.500 | 0.25 | 1.00 |" in lines
    assert "| translated/stream/c32 | ccr | 2.000 | 0.500 | 0.25 | 2.00 |" in lines


def test_sdk_cell_reads_the_load_summary() -> None:
    line = (
        'SDK_JSON {"requests":900,"duration_us":3000000,"errors":0,"p50_us":700,"p90_us":800,'
        '"p99_us":900,"mean_us":710.5,"cpu_seconds":0.45,"total_cpu_seconds":2.5,'
        '"peak_rss_kib":70000,"text":"hi"}'
    )
    found = sdk_cell.parse("warming up\n" + line + "\n")
    assert found.wrk == WrkResult(900, 3_000_000, 0, 700, 800, 900, 710.5)
    assert (found.cpu_seconds, found.total_cpu_seconds, found.peak_rss_kib) == (0.45, 2.5, 70000)
    m = Measurement(grid()[0], found.wrk, found.cpu_seconds)
    assert m.cpu_ms_per_request == 0.5
    argv = sdk_cell.command(
        Path("/py"), "http://127.0.0.1:9", Path("/b.json"), Cell("same", True, 32), 6, 2, 1
    )
    assert argv[:4] == ["taskset", "-c", "1", "/py"]
    assert argv[5:] == [
        "--upstream",
        "http://127.0.0.1:9",
        "--body",
        "/b.json",
        "--concurrency",
        "32",
        "--seconds",
        "6",
        "--warmup",
        "2",
        "--stream",
    ]


def test_peers_are_configured_for_the_fixed_upstream(tmp_path: Path) -> None:
    manifest = json.loads(peers.portkey_package_json())
    assert manifest["dependencies"] == {"@portkey-ai/gateway": "1.15.2"}
    assert manifest["overrides"]["hono"] == "4.9.7"
    assert manifest["overrides"]["@hono/node-server"] == "1.13.5"
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in manifest["overrides"].values())
    lineup = Lineup(tmp_path, "http://127.0.0.1:9", Path("/py"), None, "kimi-k2.6")
    portkey = peers.portkey_spec(lineup, 4000)
    assert (portkey.paths, portkey.argv[-2:]) == (("same",), ["--port=4000", "--headless"])
    assert portkey.headers == {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": "http://127.0.0.1:9/v1",
    }
    assert portkey.env["NODE_ENV"] == "production"
    ccr = peers.ccr_spec(lineup, 4001)
    assert ccr.paths == ("translated",)
    [(where, text)] = ccr.files.items()
    assert where == tmp_path / "ccr-home" / ".claude-code-router" / "config.json"
    assert ccr.env["HOME"] == str(tmp_path / "ccr-home")
    config = json.loads(text)
    assert (config["PORT"], config["APIKEY"], config["Router"]) == (
        4001,
        "sk-bench-client-key",
        {"default": "kimi,kimi-k2.6"},
    )
    assert config["Providers"][0]["api_base_url"] == "http://127.0.0.1:9/v1/chat/completions"


def test_bare_config_turns_the_default_features_off(tmp_path: Path) -> None:
    config = tmp_path / "bare.yaml"
    config.write_text("api_key: sk-up\nbase_url: http://127.0.0.1:9/v1\n" + production.BARE_CONFIG)
    settings = load_settings(config)
    assert not settings.ledger.enabled
    assert not settings.reliability.retry.enabled
    assert not settings.reliability.breaker.enabled
    assert settings.keys == ()

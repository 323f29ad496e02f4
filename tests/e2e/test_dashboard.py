"""The dashboard at /ui: the master-key login (form, cookie; no key in a URL), the JSON it draws
from, and the page itself rendered in real headless Chromium after a real run — the test reads
the numbers the page shows. With KIMI_GATEWAY_SCREENSHOT=path it also saves a screenshot (the
README's docs/dashboard.png comes from here)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from cdp import Browser, chromium_path
from ledger_workload import EMULATOR_FAULTS, emulator_totals, ledger_totals, run_mixed, served
from test_ledger import ledger_rows
from test_ledger_budgets import redis_prefix  # noqa: F401 (a fixture)

MASTER = "master-key-for-the-dashboard-0123"
CLIENT = "client-key-for-the-dashboard-0123"


@pytest.fixture
def busy_gateway(gateway_factory: Any, kimi_emulator_factory: Any) -> Any:
    emulator = kimi_emulator_factory(faults=EMULATOR_FAULTS)
    budgets = {
        "budgets": [{"period": "day", "limit_usd": "5"}, {"period": "month", "limit_usd": "100"}]
    }
    keys = [{"name": "ci", "key": CLIENT}]
    gateway = gateway_factory(emulator=emulator, master_key=MASTER, keys=keys, ledger=budgets)
    jobs = run_mixed([(gateway.url, CLIENT)], rounds=2, workers=4)
    ledger_rows(gateway, expect=jobs)  # every generation has ended
    return gateway


def _logged_in(gateway: Any) -> httpx.Client:
    client = httpx.Client(base_url=gateway.url, timeout=10)
    reply = client.post("/ui/login", data={"key": MASTER})
    assert reply.status_code == 303
    assert reply.headers["location"] == "/ui"
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    return client


def test_login_form_and_session(busy_gateway: Any) -> None:
    with httpx.Client(base_url=busy_gateway.url, timeout=10) as anonymous:
        page = anonymous.get("/ui")
        assert page.status_code == 200
        assert '<form method="post" action="/ui/login"' in page.text
        assert anonymous.get("/ui/data").status_code == 401
        wrong = anonymous.post("/ui/login", data={"key": "guess"})
        assert wrong.status_code == 401
        assert "That is not the master key." in wrong.text
        forged = anonymous.get("/ui/data", headers={"cookie": "kgw_ui=9999999999.00"})
        assert forged.status_code == 401
    client = _logged_in(busy_gateway)
    try:
        assert "chart-spend" in client.get("/ui").text
        data = client.get("/ui/data").json()
    finally:
        client.close()
    rows = ledger_rows(busy_gateway)
    assert data["requests"] == len(rows) == 16
    assert data["errors"] == sum(r["status"] != "ok" for r in rows)
    spent = sum(Decimal(r["cost_nano_usd"] or 0) for r in rows) / 10**9
    assert Decimal(data["spend_usd"]) == spent
    assert len(data["recent"]) == 16
    assert {b["period"]: b["limit_usd"] for b in data["budgets"]} == {"day": "5", "month": "100"}
    assert data["latency_ms"]["p50"] <= data["latency_ms"]["p95"] <= data["latency_ms"]["p99"]


def _browser() -> str:
    found = chromium_path()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return found


def test_the_page_renders_the_run_in_chromium(busy_gateway: Any) -> None:
    shown, data = _render(busy_gateway)
    assert shown["spend"] == "$" + data["spend_usd"]
    assert shown["requests"] == "16"
    assert shown["errors"] == f"{100 * data['error_rate']:.1f}%"
    assert shown["cache"] == f"{100 * data['cache_hit_ratio']:.1f}%"
    assert shown["p50"] == f"{data['latency_ms']['p50']:.1f}"
    assert shown["recent"] == 16
    assert shown["bad"] == data["errors"]
    assert shown["days"] == [d["cost_usd"] for d in data["spend_by_day"]]
    assert shown["output"] == sum(m["output_tokens"] for m in data["tokens_by_model"])
    assert shown["left"] == ["$" + b["left_usd"] for b in data["budgets"]]
    days = data["rates_by_day"]  # one, unless the run straddled midnight UTC
    assert shown["rates"] == [
        [kind, day[kind]] for day in days for kind in ("error_rate", "cache_hit_ratio")
    ]
    if len(days) == 1:
        assert days[0]["error_rate"] == data["error_rate"]
        assert days[0]["cache_hit_ratio"] == data["cache_hit_ratio"]
    assert shown["latency"] == [[name, data["latency_ms"][name]] for name in ("p50", "p95", "p99")]


def test_the_dashboard_shows_a_two_replica_run_on_postgres_and_redis(
    postgres_url: str,  # before the gateways: torn down after them
    redis_prefix: str,  # noqa: F811 (the fixture imported above)
    gateway_factory: Any,
    kimi_emulator_factory: Any,
) -> None:
    """Two replicas share PostgreSQL and Redis; either one's dashboard shows the whole run,
    and what it shows is what the emulator served."""
    emulator = kimi_emulator_factory(faults=EMULATOR_FAULTS)
    shared = {
        "database_url": postgres_url,
        "redis_url": "redis://127.0.0.1:6379/0",
        "master_key": MASTER,
        "keys": [{"name": "ci", "key": CLIENT}],
        "ledger": {
            "redis_prefix": redis_prefix,
            "budgets": [{"period": "day", "limit_usd": "1000"}],
        },
    }
    replicas = [gateway_factory(emulator=emulator, **shared) for _ in range(2)]
    jobs = run_mixed([(g.url, CLIENT) for g in replicas], rounds=3)
    rows = ledger_rows(*replicas, expect=jobs)
    assert ledger_totals(rows) == emulator_totals(served(emulator))
    shown, data = _render(replicas[0])
    assert shown["requests"] == str(jobs) == str(len(rows))
    assert shown["spend"] == "$" + data["spend_usd"]
    spent = sum((Decimal(r["cost_nano_usd"] or 0) for r in rows), Decimal(0)) / 10**9
    assert Decimal(data["spend_usd"]) == spent
    assert shown["left"] == [f"${(Decimal(1000) - spent).normalize():f}"]
    assert shown["output"] == ledger_totals(rows)["output"]


def _render(gateway: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the page shows in Chromium after logging in, and the JSON it drew from."""
    executable = _browser()
    client = _logged_in(gateway)
    try:
        data = client.get("/ui/data").json()
    finally:
        client.close()
    with Browser(executable) as browser:
        browser.open(gateway.url + "/ui")
        browser.wait_for("document.querySelector('#key') !== null")
        browser.evaluate(
            f"document.querySelector('#key').value = {MASTER!r};"
            "document.querySelector('#login').submit(); true"
        )
        browser.wait_for("document.body.dataset.loaded === 'true'")
        found = browser.evaluate(
            "({spend: document.querySelector('#spend').textContent,"
            " requests: document.querySelector('#requests').textContent,"
            " errors: document.querySelector('#error-rate').textContent,"
            " cache: document.querySelector('#cache-hit').textContent,"
            " p50: document.querySelector('#p50').textContent,"
            " recent: document.querySelectorAll('#recent tr').length,"
            " bad: document.querySelectorAll('#recent td.bad').length,"
            " days: [...document.querySelectorAll('#chart-spend rect')].map(r => r.dataset.value),"
            " output: [...document.querySelectorAll('#chart-tokens rect[data-kind=output_tokens]')]"
            "   .map(r => Number(r.dataset.value)).reduce((a, b) => a + b, 0),"
            " left: [...document.querySelectorAll('#budgets td.left')].map(td => td.textContent),"
            " rates: [...document.querySelectorAll('#chart-rates rect')]"
            "   .map(r => [r.dataset.kind, Number(r.dataset.value)]),"
            " latency: [...document.querySelectorAll('#chart-latency rect')]"
            "   .map(r => [r.dataset.name, Number(r.dataset.value)])})"
        )
        if os.environ.get("KIMI_GATEWAY_SCREENSHOT"):
            Path(os.environ["KIMI_GATEWAY_SCREENSHOT"]).write_bytes(browser.screenshot())
    shown: dict[str, Any] = found
    return shown, data

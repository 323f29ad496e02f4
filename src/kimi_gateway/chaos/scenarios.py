"""The chaos scenarios: each starts the emulator (in this process) and gateway replicas
(processes), sends load, and returns a :class:`Report` with its figures and checks.

- ``faults``: 10 % overload 429s (with Retry-After) and 5 % 500s injected; default settings.
- ``rpm_limit``: the emulator's RPM limit below the offered load; the gateway queues or refuses
  with a clear 429, so the emulator never has to refuse one.
- ``replicas``: two replicas sharing Redis and one account limit, counted at the emulator.
- ``kill``: two replicas under streaming load; one is killed (-9) mid-load, then the other gets
  SIGTERM with streams in flight.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_gateway.chaos.load import Result, run_load
from kimi_gateway.chaos.replica import start_replica
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.server import EmulatorServer

PLATFORM_KEY = "sk-chaos-platform-0123456789"


@dataclass
class Report:
    name: str
    results: list[Result]
    seconds: float
    upstream_429: int = 0  # counted at the emulator
    upstream_calls: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(r.complete for r in self.results)

    @property
    def success_rate(self) -> float:
        return self.ok / len(self.results) if self.results else 0.0

    def latency(self, quantile: float) -> float:
        values = sorted(r.seconds for r in self.results)
        if not values:
            return 0.0
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=1000, method="inclusive")[int(quantile * 1000) - 1]

    def check(self, what: str, passed: bool) -> None:
        self.checks.append((what, passed))

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.checks)


def _emulator(**config: Any) -> EmulatorServer:
    return EmulatorServer(EmulatorConfig(seed=7, **config)).start()


def _config(emulator: EmulatorServer, **extra: Any) -> dict[str, Any]:
    return {"api_key": PLATFORM_KEY, "base_url": emulator.url + "/v1", **extra}


def _statuses(emulator: EmulatorServer) -> list[int]:
    return [r["status"] for r in emulator.requests() if r["path"].endswith("/completions")]


def _no_hang(report: Report, deadline: float) -> None:
    hung = [r for r in report.results if r.status == 0 and r.seconds >= deadline - 0.5]
    report.check(f"no request hangs past its deadline ({deadline:g} s)", not hung)


def faults(scratch: Path, count: int, concurrency: int) -> Report:
    faults_config = [
        {"kind": "engine_overloaded", "probability": 0.10, "retry_after": 1},
        {"kind": "server_error", "probability": 0.05},
    ]
    emulator = _emulator(faults=faults_config)
    replica = start_replica(scratch / "faults", _config(emulator))
    try:
        started = time.perf_counter()
        results = asyncio.run(run_load([replica.url], count, concurrency, deadline=120))
        report = Report("faults", results, time.perf_counter() - started)
        report.metrics = replica.metrics()
    finally:
        replica.kill()
        emulator.stop()
    statuses = _statuses(emulator)
    report.upstream_calls, report.upstream_429 = len(statuses), statuses.count(429)
    report.check("≥ 99.9 % of non-streaming requests succeed", report.success_rate >= 0.999)
    _no_hang(report, 120)
    return report


def rpm_limit(scratch: Path, rpm: int, concurrency: int) -> Report:
    emulator = _emulator(limits={"rpm": rpm})
    limits = {"accounts": {"platform": {"rpm": rpm}}, "max_queue_wait": 5}
    replica = start_replica(scratch / "rpm", _config(emulator, reliability={"limits": limits}))
    try:
        started = time.perf_counter()
        results = asyncio.run(run_load([replica.url], 2 * rpm, concurrency, deadline=60))
        report = Report("rpm_limit", results, time.perf_counter() - started)
        report.metrics = replica.metrics()
    finally:
        replica.kill()
        emulator.stop()
    statuses = _statuses(emulator)
    report.upstream_calls, report.upstream_429 = len(statuses), statuses.count(429)
    report.check("the emulator counts zero 429s (the gateway queued)", report.upstream_429 == 0)
    clear = all(r.complete or (r.status == 429 and r.retry_after) for r in report.results)
    report.check("every request succeeds or gets a clear 429 with Retry-After", clear)
    report.check(f"at most {rpm} reach the emulator in its window", len(statuses) <= rpm)
    _no_hang(report, 60)
    return report


def replicas(scratch: Path, rpm: int, concurrency: int, redis_url: str) -> Report:
    emulator = _emulator(limits={"rpm": rpm, "concurrency": 4})
    prefix = f"kimi-gateway-chaos-{secrets.token_hex(4)}"
    limits = {"accounts": {"platform": {"rpm": rpm, "concurrency": 4}}, "max_queue_wait": 5}
    config = _config(
        emulator, redis_url=redis_url, reliability={"limits": limits, "redis_prefix": prefix}
    )
    one = start_replica(scratch / "replica1", config)
    two = start_replica(scratch / "replica2", config)
    try:
        started = time.perf_counter()
        urls = [one.url, two.url]
        results = asyncio.run(run_load(urls, 2 * rpm, concurrency, deadline=60))
        report = Report("replicas", results, time.perf_counter() - started)
        report.metrics = _summed(one.metrics(), two.metrics())
    finally:
        one.kill()
        two.kill()
        emulator.stop()
    statuses = _statuses(emulator)
    report.upstream_calls, report.upstream_429 = len(statuses), statuses.count(429)
    report.check(
        "two replicas never exceed the limit (zero 429s at the emulator)", report.upstream_429 == 0
    )
    report.check(f"at most {rpm} requests reach the emulator in its window", len(statuses) <= rpm)
    _no_hang(report, 60)
    return report


def kill(scratch: Path, count: int, concurrency: int, redis_url: str) -> Report:
    """Streams on both replicas; replica one is killed mid-load, then replica two gets SIGTERM
    while its streams are in flight (they must finish, and it must exit 0)."""
    emulator = _emulator(faults=[{"kind": "slow_chunks", "delay_ms": 30}])
    prefix = f"kimi-gateway-chaos-{secrets.token_hex(4)}"
    config = _config(emulator, redis_url=redis_url, reliability={"redis_prefix": prefix})
    one = start_replica(scratch / "kill1", config)
    two = start_replica(scratch / "kill2", config)
    text = " ".join(["word"] * 40)
    try:
        started = time.perf_counter()
        timer = threading.Timer(1.0, one.kill)
        timer.start()
        both = asyncio.run(
            run_load([two.url, one.url], 2 * count, concurrency, stream=True, text=text)
        )
        timer.join()
        report = Report("kill", both[0::2], time.perf_counter() - started)
        lost = sum(not r.complete for r in both[1::2])
        report.notes.append(f"replica one (killed mid-load): {lost} of {count} requests lost")
        report.check(
            "kill -9 of one replica loses no request on the other", report.success_rate == 1.0
        )
        late: list[Result] = []
        sigterm = threading.Timer(1.0, lambda: late.append(Result(two.terminate(), 0, True, None)))
        sigterm.start()
        drained = asyncio.run(run_load([two.url], concurrency, concurrency, stream=True, text=text))
        sigterm.join()
        report.notes.append(f"SIGTERM: exit status {late[0].status if late else '?'}")
        in_flight = [r for r in drained if r.status != 0]
        report.check(
            "SIGTERM lets the replica's in-flight streams finish",
            bool(in_flight) and all(r.complete for r in in_flight),
        )
        report.check("SIGTERM exits 0", bool(late) and late[0].status == 0)
    finally:
        one.kill()
        two.kill()
        emulator.stop()
    report.upstream_calls = len(_statuses(emulator))
    return report


def _summed(*samples: dict[str, float]) -> dict[str, float]:
    total: dict[str, float] = {}
    for sample in samples:
        for name, value in sample.items():
            total[name] = total.get(name, 0.0) + value
    return total


def run_all(*, reduced: bool, redis_url: str | None) -> list[Report]:
    """Every scenario (the two-replica ones only with ``redis_url``), in a scratch directory
    removed afterwards."""
    count, concurrency, rpm = (1000, 16, 20) if reduced else (5000, 32, 60)
    with tempfile.TemporaryDirectory(prefix="kimi-gateway-chaos-") as scratch:
        base = Path(scratch)
        reports = [faults(base, count, concurrency), rpm_limit(base, rpm, concurrency)]
        if redis_url:
            reports.append(replicas(base, rpm, concurrency, redis_url))
            reports.append(kill(base, 40 if reduced else 200, 8, redis_url))
    return reports

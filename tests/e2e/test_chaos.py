"""The chaos suite in its reduced form (issue 12): every property the full ``kimi-gateway
chaos`` shows, on fewer requests. Real processes on 127.0.0.1, the real Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimi_gateway.chaos.report import render
from kimi_gateway.chaos.scenarios import Report, faults, kill, replicas, rpm_limit

REDIS_URL = "redis://127.0.0.1:6379/0"


def assert_passed(report: Report) -> None:
    assert [what for what, ok in report.checks if not ok] == [], render([report])


def test_faults_are_turned_into_answers(tmp_path: Path) -> None:
    """10 % 429 (Retry-After) + 5 % 500 injected, default settings: ≥ 99.9 % succeed."""
    report = faults(tmp_path, 1000, 16)
    assert_passed(report)
    assert report.upstream_429 > 0  # the faults really were there


def test_an_rpm_limit_below_the_load_causes_no_429_at_the_emulator(tmp_path: Path) -> None:
    assert_passed(rpm_limit(tmp_path, 20, 16))


@pytest.mark.timeout(180)
def test_two_replicas_sharing_redis_never_exceed_the_limit(tmp_path: Path) -> None:
    assert_passed(replicas(tmp_path, 20, 16, REDIS_URL))


@pytest.mark.timeout(180)
def test_kill_and_sigterm_of_a_replica(tmp_path: Path) -> None:
    assert_passed(kill(tmp_path, 40, 8, REDIS_URL))

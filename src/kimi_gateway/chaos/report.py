"""The chaos suite's printout: per scenario, success rate, latency, retries, queue waits and the
429s counted at the emulator, then each check with PASS or FAIL."""

from __future__ import annotations

from collections.abc import Sequence

from kimi_gateway.chaos.scenarios import Report


def render(reports: Sequence[Report]) -> str:
    lines: list[str] = []
    for report in reports:
        m = report.metrics
        statuses: dict[int, int] = {}
        for result in report.results:
            statuses[result.status] = statuses.get(result.status, 0) + 1
        lines += [
            f"== {report.name}: {len(report.results)} requests in {report.seconds:.1f} s",
            f"   success {report.success_rate * 100:.2f} % ({report.ok}/{len(report.results)});"
            f" statuses {dict(sorted(statuses.items()))}",
            f"   latency p50 {report.latency(0.5) * 1000:.0f} ms, "
            f"p99 {report.latency(0.99) * 1000:.0f} ms, "
            f"max {max((r.seconds for r in report.results), default=0) * 1000:.0f} ms",
            f"   retries {m.get('kimi_gateway_upstream_retries_total', 0):.0f}, "
            f"stale resends {m.get('kimi_gateway_stale_connection_resends_total', 0):.0f}, "
            f"budget refusals {m.get('kimi_gateway_retry_budget_refusals_total', 0):.0f}",
            f"   queue waits {m.get('kimi_gateway_queue_waits_total', 0):.0f} "
            f"({m.get('kimi_gateway_queue_wait_seconds_total', 0):.1f} s in all), "
            f"limit refusals {m.get('kimi_gateway_limit_refusals_total', 0):.0f}",
            f"   at the emulator: {report.upstream_calls} calls, "
            f"{report.upstream_429} answered 429",
        ]
        lines += [f"   note: {note}" for note in report.notes]
        lines += [f"   [{'PASS' if ok else 'FAIL'}] {what}" for what, ok in report.checks]
    passed = all(report.passed for report in reports)
    lines.append("chaos: all checks passed" if passed else "chaos: SOME CHECKS FAILED")
    return "\n".join(lines)

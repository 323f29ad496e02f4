"""--baseline: the new/baseline CPU table and its verdicts, the target order, and the start-up
code that makes the baseline tree's kimi_gateway win over the venv's editable install."""

import subprocess
import sys
from pathlib import Path

from benchkit import baseline, compare, report
from benchkit.cells import Cell, Measurement, Results, TargetRun, grid
from benchkit.wrk import WrkResult

SLOW = Cell("same", True, 32)  # the cell where the new gateway is over the limit
MISSING = Cell("translated", False, 1)  # the cell the baseline could not serve


def _m(cell: Cell, cpu: float | None, requests: int = 10_000) -> Measurement:
    return Measurement(
        cell, WrkResult(requests, 5_000_000, 0, 500, 500, 2_000, 500.0), cpu, "", 0.02
    )


def _results() -> Results:
    new = TargetRun("gateway", "new", idle_rss_kib=74_752, peak_rss_kib=80_896)
    old = TargetRun("gateway@abc1234", "old", idle_rss_kib=72_704, peak_rss_kib=79_872)
    for cell in grid():
        new.measurements.append(_m(cell, 5.0))  # 0.5 ms/req
        if cell == MISSING:
            old.measurements.append(Measurement(cell, note="HTTP 500"))
        else:
            old.measurements.append(_m(cell, 4.0 if cell == SLOW else 4.9))
    return Results([TargetRun("direct", "nginx", False), new, old], {"CPU": "test"}, 6.0)


def test_ratio_per_cell_and_verdicts() -> None:
    rows = {row.cell: row for row in compare.rows(_results(), "gateway", "gateway@abc1234")}
    assert list(rows) == grid()
    assert rows[SLOW].ratio == 1.25
    assert rows[MISSING].ratio is None
    assert round(rows[Cell("same", False, 1)].ratio or 0, 4) == round(0.5 / 0.49, 4)
    assert compare.verdict(1.05) == "ok"
    assert compare.verdict(1.0501) == "**over 1.05**"
    assert compare.verdict(None) == "n/a"


def test_table_lines_and_summary() -> None:
    items = compare.rows(_results(), "gateway", "gateway@abc1234")
    lines = compare.table(items).splitlines()
    assert lines[0] == compare.HEADER
    assert len(lines) == 2 + 8
    assert lines[2] == (
        "| same | non-stream | 1 | 2,000 | 2,000 | 0.490 | 0.500 | 1.020 | ok | 2% / 2% |"
    )
    assert lines[5] == (
        "| same | stream | 32 | 2,000 | 2,000 | 0.400 | 0.500 | 1.250 | **over 1.05** | 2% / 2% |"
    )
    assert lines[6] == (
        "| translated | non-stream | 1 | n/a | 2,000 | n/a | 0.500 | n/a | n/a | n/a / 2% |"
    )
    assert compare.summary(items) == (
        "6 of 8 cells within 1.05 × baseline, 1 over (same/stream/c32 1.250), 1 n/a."
    )


def test_section_in_results_markdown() -> None:
    results = _results()
    section = compare.section(results, "gateway@abc1234")
    assert section.startswith("## Baseline: gateway vs gateway@abc1234\n")
    assert "Idle RSS MiB base → new: 71 → 73; peak RSS MiB: 78 → 79." in section
    text = report.results_markdown(results, "- a note", sections=section)
    assert text.index("## Issue 5 targets") < text.index("## Baseline:") < text.index("## Notes")
    assert text.endswith("## Notes\n\n- a note\n")
    assert "## Baseline" not in report.results_markdown(results, "- a note")


def test_lineup_order_puts_the_baseline_after_gateway() -> None:
    assert baseline.lineup_order(["direct", "gateway", "litellm"], "gateway@abc1234") == [
        "direct",
        "gateway",
        "gateway@abc1234",
        "litellm",
    ]
    assert baseline.lineup_order(["direct"], "gateway@abc1234") == ["direct"]
    assert baseline.lineup_order(["gateway@abc1234", "gateway"], "gateway@abc1234") == [
        "gateway@abc1234",
        "gateway",
    ]
    assert baseline.lineup_order(["direct", "gateway"], "") == ["direct", "gateway"]


def test_stray_modules() -> None:
    src = Path("/t/baseline-abc1234/src")
    files = [f"{src}/kimi_gateway/__init__.py", "/work/main/src/kimi_gateway/server/app.py"]
    assert baseline.stray_modules(files, src) == ["/work/main/src/kimi_gateway/server/app.py"]


def test_bootstrap_imports_the_given_tree_first(tmp_path: Path) -> None:
    """With the project's venv (kimi_gateway installed editable), the bootstrap still imports
    the package from the tree it names, and refuses a tree without one."""
    package = tmp_path / "src" / "kimi_gateway"
    (package / "server").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "server" / "__init__.py").write_text("")
    code = baseline.bootstrap(tmp_path / "src") + (
        "import kimi_gateway.server\nprint(kimi_gateway.server.__file__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(package / "server" / "__init__.py")
    assert f"bench: kimi_gateway from {package / '__init__.py'}" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", baseline.bootstrap(empty)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3

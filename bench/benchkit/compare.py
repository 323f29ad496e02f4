"""The ``--baseline`` comparison: per cell, the gateway's CPU ms/request against the baseline
gateway's from the same run, as new/baseline, flagged above the refactor rule's 1.05. Pure:
Results in, markdown out.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchkit.cells import Cell, Measurement, Results, TargetRun, grid

LIMIT = 1.05  # new CPU ms/request at most 5 % over the baseline's, on every cell
NA = "n/a"

HEADER = (
    "| path | mode | c | req/s base | req/s new | CPU ms/req base | CPU ms/req new | new/base "
    "| verdict | other load base / new |"
)
RULE = "|" + "|".join(["---"] * 3 + ["---:"] * 5 + ["---", "---:"]) + "|"


@dataclass(frozen=True, slots=True)
class Row:
    cell: Cell
    base: Measurement | None
    new: Measurement | None

    @property
    def ratio(self) -> float | None:
        """new / base CPU ms per request; None unless both are measured and clean."""
        base = _cpu(self.base)
        new = _cpu(self.new)
        if base is None or new is None or base == 0:
            return None
        return new / base


def _cpu(m: Measurement | None) -> float | None:
    return m.cpu_ms_per_request if m is not None and m.ok else None


def rows(results: Results, new: str, base: str) -> list[Row]:
    """One row per cell either target serves, in grid order."""
    new_run, base_run = results.target(new), results.target(base)
    paths = {p for t in (new_run, base_run) if t for p in t.paths}
    return [
        Row(
            cell,
            base_run.get(cell) if base_run else None,
            new_run.get(cell) if new_run else None,
        )
        for cell in grid()
        if cell.path in paths
    ]


def verdict(ratio: float | None, limit: float = LIMIT) -> str:
    if ratio is None:
        return NA
    return "ok" if ratio <= limit else f"**over {limit:g}**"


def _rps(m: Measurement | None) -> str:
    return f"{m.wrk.rps:,.0f}" if m is not None and m.ok and m.wrk is not None else NA


def _ms(value: float | None) -> str:
    return NA if value is None else f"{value:.3f}"


def _load(m: Measurement | None) -> str:
    return NA if m is None or m.interference is None else f"{m.interference:.0%}"


def _line(row: Row, limit: float) -> str:
    c = row.cell
    ratio = row.ratio
    cells = [
        c.path,
        "stream" if c.stream else "non-stream",
        str(c.concurrency),
        _rps(row.base),
        _rps(row.new),
        _ms(_cpu(row.base)),
        _ms(_cpu(row.new)),
        NA if ratio is None else f"{ratio:.3f}",
        verdict(ratio, limit),
        f"{_load(row.base)} / {_load(row.new)}",
    ]
    return "| " + " | ".join(cells) + " |"


def table(items: list[Row], limit: float = LIMIT) -> str:
    return "\n".join([HEADER, RULE, *(_line(row, limit) for row in items)])


def summary(items: list[Row], limit: float = LIMIT) -> str:
    """How many cells are within the limit, and which are over (with their ratio)."""
    measured = [(row, row.ratio) for row in items if row.ratio is not None]
    over = [f"{row.cell.label} {ratio:.3f}" for row, ratio in measured if ratio > limit]
    missing = len(items) - len(measured)
    text = f"{len(measured) - len(over)} of {len(items)} cells within {limit:g} × baseline"
    text += f", {len(over)} over" + (f" ({'; '.join(over)})" if over else "")
    return text + f", {missing} n/a."


def _mib(kib: int | None) -> str:
    return NA if kib is None else f"{kib / 1024:.0f}"


def memory(new: TargetRun | None, base: TargetRun | None) -> str:
    def both(attr: str) -> str:
        values = [_mib(getattr(t, attr)) if t else NA for t in (base, new)]
        return " → ".join(values)

    return f"Idle RSS MiB base → new: {both('idle_rss_kib')}; peak RSS MiB: {both('peak_rss_kib')}."


def section(
    results: Results,
    base: str,
    new: str = "gateway",
    limit: float = LIMIT,
    interleaved: bool = True,
) -> str:
    """The RESULTS.md section: the rule, the summary, the table, memory."""
    items = rows(results, new, base)
    how = (
        "interleaved: both were up, and each cell was measured on one and then the other "
        "(the order reversed every other cell), the idle one waiting on the same CPU"
        if interleaved
        else "one after the other"
    )
    return f"""## Baseline: {new} vs {base}

Both ran in this run against the same upstream and wrk settings, {how}.
new/base = {new}'s CPU ms/req ÷ {base}'s; the rule for the change is ≤ {limit:g} on every cell
(judged on the unrounded ratio). "Other load" is the share of the measured CPU that other
processes used during the timed run (CPU ms/req is much less affected than req/s).

{summary(items, limit)}

{table(items, limit)}

{memory(results.target(new), results.target(base))}
"""

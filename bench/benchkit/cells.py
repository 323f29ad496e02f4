"""What one benchmark run measures: the grid of cells, and the results per target. Pure data.

A *cell* is one (path, stream, concurrency) combination; a *target* is one process under test
(direct nginx, the relay floor, our gateway, LiteLLM). Every target runs every cell it supports;
a cell a target cannot serve carries a note instead of numbers (shown as n/a).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from benchkit.wrk import WrkResult

Path_ = Literal["same", "translated"]
PATHS: tuple[Path_, ...] = ("same", "translated")
PATH_LABELS: dict[Path_, str] = {
    "same": "OpenAI → Open Platform",
    "translated": "Anthropic → Open Platform",
}


@dataclass(frozen=True, slots=True)
class Cell:
    path: Path_
    stream: bool
    concurrency: int

    @property
    def label(self) -> str:
        mode = "stream" if self.stream else "non-stream"
        return f"{self.path}/{mode}/c{self.concurrency}"


def grid(concurrencies: tuple[int, ...] = (1, 32)) -> list[Cell]:
    """Every cell, in the order they run and print."""
    return [
        Cell(path, stream, conc)
        for path in PATHS
        for stream in (False, True)
        for conc in concurrencies
    ]


@dataclass(frozen=True, slots=True)
class Measurement:
    cell: Cell
    wrk: WrkResult | None = None
    cpu_seconds: float | None = None
    note: str = ""  # why there are no numbers (n/a, error)
    # Share of the target's CPU that other processes used during the timed run (a busy
    # machine skews latency and req/s; CPU ms/req much less).
    interference: float | None = None

    @property
    def ok(self) -> bool:
        return self.wrk is not None and self.wrk.requests > 0 and self.wrk.errors == 0

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.wrk is None or self.cpu_seconds is None or self.wrk.requests == 0:
            return None
        return self.cpu_seconds * 1000 / self.wrk.requests


@dataclass(slots=True)
class TargetRun:
    name: str  # "direct", "floor", "gateway", "litellm"
    description: str
    measures_process: bool = True  # False for direct: nginx is the upstream, not measured
    idle_rss_kib: int | None = None
    peak_rss_kib: int | None = None
    note: str = ""  # why the whole target is missing, if it is
    paths: tuple[Path_, ...] = PATHS  # the paths it serves at all (a byte relay: same only)
    measurements: list[Measurement] = field(default_factory=list)
    # Sent with every request besides the dialect's own (a peer's routing headers).
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, cell: Cell) -> Measurement | None:
        for m in self.measurements:
            if m.cell == cell:
                return m
        return None


@dataclass(slots=True)
class Results:
    targets: list[TargetRun]
    facts: dict[str, str]
    seconds_per_cell: float

    def target(self, name: str) -> TargetRun | None:
        for t in self.targets:
            if t.name == name:
                return t
        return None

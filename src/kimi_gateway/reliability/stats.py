"""What the reliability wrappers did, as plain counters for ``/metrics`` and ``/readyz``.

One :class:`Stats` per engine (no module state). Counters move only on the paths where something
went wrong or waited (a retry, a fallback, a queue wait, a refusal), so the no-fault path pays
nothing; the server turns them into Prometheus families when ``/metrics`` is read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Stats:
    retries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (upstream, reason)
    budget_refusals: Counter[str] = field(default_factory=Counter)  # upstream
    fallbacks: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # from, to, why
    queued: Counter[str] = field(default_factory=Counter)  # account: requests that waited
    queue_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)  # (account, why)

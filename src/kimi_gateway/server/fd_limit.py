"""How many files the process may hold open, raised at start (issue 15 item 6).

Each stream holds two descriptors (the client's connection and the upstream's), so the soft
limit on open files (RLIMIT_NOFILE) caps the streams one process can hold: a common soft limit
of 1,024 stops it near 500. An unprivileged process may raise its soft limit up to the hard one,
which is what ``server.raise_fd_limit`` does at start; the start banner and ``/readyz`` say what
the limit is and about how many streams it allows.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

# Descriptors kept for everything but streams: the listening socket, the ledger's database,
# log files, the event loop's own, the interpreter's.
RESERVED = 64


@dataclass(frozen=True, slots=True)
class FdLimit:
    soft: int  # the limit now (-1: unlimited)
    hard: int
    before: int  # the soft limit found at start

    @property
    def streams(self) -> int | None:
        """About how many concurrent streams the limit allows (None: no limit)."""
        if self.soft == resource.RLIM_INFINITY:
            return None
        return max(0, (self.soft - RESERVED) // 2)

    def describe(self) -> str:
        """One line for the start banner."""
        soft = "unlimited" if self.soft == resource.RLIM_INFINITY else str(self.soft)
        raised = f", raised from {self.before}" if self.before != self.soft else ""
        streams = "no limit" if self.streams is None else f"about {self.streams:,}"
        return f"open files: {soft}{raised} (streams it can hold: {streams}; 2 files each)"

    def readiness(self) -> dict[str, int | None]:
        """What ``/readyz`` reports as ``open_files`` (None where there is no limit)."""
        soft = None if self.soft == resource.RLIM_INFINITY else self.soft
        return {"limit": soft, "streams": self.streams}


def raise_fd_limit(enabled: bool) -> FdLimit:
    """The open-files limit, its soft value first raised to the hard one when ``enabled``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = soft
    if enabled and soft != hard and soft != resource.RLIM_INFINITY:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # e.g. macOS caps the soft limit below an infinite hard
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return FdLimit(soft, hard, before)

"""Syscall counts per request from ``strace -f -c`` (summary table) output. Pure.

py-spy shows where Python time goes; strace shows how often the process enters the kernel and
for what (a ``connect`` per request means the upstream connection is not reused; ``getpid``
comes from asyncio's fork check in ``get_running_loop`` on Python < 3.12).
"""

from __future__ import annotations


def parse_strace_summary(text: str) -> dict[str, int]:
    """syscall → calls, from the ``% time  seconds  usecs/call  calls  errors syscall`` table."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[0].replace(".", "", 1).isdigit():
            continue
        name = fields[-1]
        if name == "total":
            continue
        # errors is an optional column: calls is the 4th field either way.
        counts[name] = int(fields[3])
    return counts


def per_request_table(counts: dict[str, int], requests: float, top: int = 12) -> str:
    """Markdown: the most frequent syscalls, as calls per request."""
    lines = ["| syscall | calls/request |", "|---|---:|"]
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
    for name, calls in ranked:
        lines.append(f"| {name} | {calls / requests:.1f} |" if requests else f"| {name} | n/a |")
    return "\n".join(lines)

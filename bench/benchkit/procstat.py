"""CPU time and memory of a process tree, read from /proc (Linux only).

CPU is utime + stime of every live process in the tree (threads included: the kernel sums them
per process), in seconds. Memory is VmRSS (now) and VmHWM (peak) summed over the tree, in KiB.
Parsing functions are pure and take the file text; the readers are thin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Memory:
    rss_kib: int
    hwm_kib: int


def parse_stat(text: str) -> tuple[int, int, int]:
    """(ppid, utime, stime) in clock ticks from /proc/<pid>/stat. The command name is in
    parentheses and may hold spaces, so split after its closing parenthesis."""
    rest = text[text.rindex(")") + 2 :].split()
    # Fields after the name, counted from 3 (state): ppid is 4, utime 14, stime 15.
    return int(rest[1]), int(rest[11]), int(rest[12])


def parse_status_kib(text: str, key: str) -> int:
    """A ``kB`` value such as VmRSS or VmHWM from /proc/<pid>/status; 0 if absent."""
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def tree(root: int) -> list[int]:
    """``root`` and its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        text = _read(entry / "stat")
        if text is not None:
            children.setdefault(parse_stat(text)[0], []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """utime + stime of the tree so far."""
    ticks = 0
    for pid in tree(root):
        text = _read(Path(f"/proc/{pid}/stat"))
        if text is not None:
            _, utime, stime = parse_stat(text)
            ticks += utime + stime
    return ticks / CLK_TCK


def memory(root: int) -> Memory:
    rss = hwm = 0
    for pid in tree(root):
        text = _read(Path(f"/proc/{pid}/status"))
        if text is not None:
            rss += parse_status_kib(text, "VmRSS")
            hwm += parse_status_kib(text, "VmHWM")
    return Memory(rss, hwm)


def parse_cpu_busy(text: str, cpu: int) -> int:
    """Busy ticks of one CPU from /proc/stat text: user, nice, system, irq, softirq, steal
    (not idle or iowait; guest time is already inside user and nice)."""
    prefix = f"cpu{cpu} "
    for line in text.splitlines():
        if line.startswith(prefix):
            user, nice, system, _idle, _iowait, irq, softirq, steal = (
                int(v) for v in line.split()[1:9]
            )
            return user + nice + system + irq + softirq + steal
    raise ValueError(f"no {prefix.strip()} in /proc/stat")


def cpu_busy_seconds(cpu: int) -> float:
    """Everything that ran on ``cpu`` so far, whoever it was."""
    return parse_cpu_busy(Path("/proc/stat").read_text(), cpu) / CLK_TCK

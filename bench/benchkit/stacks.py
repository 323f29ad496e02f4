"""Summaries of py-spy ``--native --format raw`` output (collapsed stacks, root first, one
``frame;frame;… count`` per line). Pure: text in, counters and markdown out.

Native mode samples every thread, waiting ones included, so idle samples are dropped here by
what they wait in: a lock or condition (the access log's listener thread waiting for records,
any thread waiting for the GIL) or the event loop's epoll. What is left is CPU; its shares,
times the CPU ms per request measured from /proc over the same window, give ms per request.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
# Waiting, not working (see module docstring). epoll_wait shows as an unnamed libc address
# directly under libuv's poll function.
IDLE_FUNCS = frozenset(
    {"pthread_cond_timedwait", "pthread_cond_wait", "PyThread_acquire_lock_timed", "sem_clockwait"}
)
_NATIVE_PACKAGES = (
    ("/uvloop/", "uvloop (C)"),
    ("libuv", "libuv (C)"),
    ("httptools", "httptools (C)"),
    ("llhttp", "httptools (C)"),
    ("orjson", "orjson (Rust)"),
    ("x86_64-linux-gnu", "libc + kernel (syscalls)"),
    ("[vdso]", "libc + kernel (syscalls)"),
    ("Python-3.", "CPython (C)"),
    ("/include/python3.", "CPython (C)"),
    ("libpython", "CPython (C)"),
)


@dataclass(frozen=True, slots=True)
class Stacks:
    samples: int  # CPU samples (idle dropped)
    idle: int
    inclusive: Counter[str]  # frame label → samples with it anywhere on the stack
    self_: Counter[str]  # frame label → samples with it on top
    packages: Counter[str]  # package → samples whose top frame is in it


def split_frame(frame: str) -> tuple[str, str]:
    """``func (file:line)`` → (func, file)."""
    match = _FRAME.match(frame)
    return (match.group("func"), match.group("file")) if match else (frame, "")


def package_of(frame: str) -> str:
    """Where a frame comes from: ``kimi_gateway.<module>``, a site-packages package, a native
    library (uvloop, libuv, httptools, libc, CPython itself), ``stdlib:<module>``, or the file."""
    _, file = split_frame(frame)
    if "kimi_gateway/" in file:
        module = file.split("kimi_gateway/", 1)[1].removesuffix(".py").replace("/", ".")
        return "kimi_gateway." + module
    for needle, name in _NATIVE_PACKAGES:
        if needle in file:
            return name
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    stdlib = re.search(r"/lib/python3\.\d+/([^/]+)", file)
    if stdlib:
        return "stdlib:" + stdlib.group(1).removesuffix(".py")
    if file.startswith("<frozen "):
        return "stdlib:" + file[len("<frozen ") : -1]
    if re.search(r"/lib/[^/]*$", file) or "/.pyenv/" in file:
        return "CPython (C)"
    return file or "?"


def label(frame: str) -> str:
    """``func (package)``: line numbers vary, packages group; unnamed native code is ``?``."""
    func, _ = split_frame(frame)
    return f"{'?' if func.startswith('0x') else func} ({package_of(frame)})"


def is_idle(frames: list[str]) -> bool:
    funcs = [split_frame(f)[0] for f in frames]
    if IDLE_FUNCS.intersection(funcs):
        return True
    return len(funcs) >= 2 and funcs[-2] == "uv__io_poll" and funcs[-1].startswith("0x")


def parse_collapsed(text: str) -> Stacks:
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = idle = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        if is_idle(frames):
            idle += count
            continue
        total += count
        for name in {label(f) for f in frames}:
            inclusive[name] += count
        self_[label(frames[-1])] += count
        packages[package_of(frames[-1])] += count
    return Stacks(total, idle, inclusive, self_, packages)


def _rows(
    stacks: Stacks, counter: Counter[str], ms: float, top: int, below: float = 1.01
) -> list[str]:
    """Table rows for the ``top`` heaviest entries with a share under ``below``."""
    out = ["| CPU ms/req | share | frame |", "|---:|---:|---|"]
    shown = 0
    for name, count in counter.most_common():
        share = count / stacks.samples if stacks.samples else 0.0
        if share >= below:
            continue
        out.append(f"| {share * ms:.4f} | {share:.1%} | `{name}` |")
        shown += 1
        if shown == top:
            break
    return out


def summary(stacks: Stacks, cpu_ms_per_request: float, title: str, top: int = 25) -> str:
    """Markdown: the heaviest packages and frames, as share of CPU and as CPU ms per request."""
    ms = cpu_ms_per_request
    return "\n".join(
        [
            f"### {title}",
            "",
            f"{stacks.samples} CPU samples ({stacks.idle} idle dropped); "
            f"{ms:.3f} CPU ms/request (measured unsampled).",
            "",
            "Self time by package (native code included):",
            "",
            *_rows(stacks, stacks.packages, ms, top),
            "",
            "Inclusive time by frame (below the server's own loop, i.e. under 90%):",
            "",
            *_rows(stacks, stacks.inclusive, ms, top + 15, below=0.9),
            "",
            "Self time by frame:",
            "",
            *_rows(stacks, stacks.self_, ms, top),
            "",
        ]
    )

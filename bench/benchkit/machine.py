"""Machine facts for bench/RESULTS.md: CPU, cores, kernel, Python, package versions, date."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path


def cpu_model(cpuinfo: str) -> str:
    """The first ``model name`` in /proc/cpuinfo text (pure)."""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _run(argv: list[str], any_status: bool = False) -> str:
    """The first line the command prints (``any_status``: even if it exits non-zero, as
    ``wrk -v`` does)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines and (done.returncode == 0 or any_status) else "unknown"


def package_version(python: Path, package: str) -> str:
    """A package's version as seen by the interpreter ``python`` (any venv)."""
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return _run([str(python), "-c", code])


def facts(project_python: Path, litellm_python: Path | None) -> dict[str, str]:
    out = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu_model(Path("/proc/cpuinfo").read_text()),
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
        "Python (gateway, floor)": _run([str(project_python), "--version"]),
        "nginx": _run(["nginx", "-v"]).removeprefix("nginx version: "),
        "wrk": _run(["wrk", "-v"], any_status=True).split(" [")[0],
    }
    for pkg in ("uvicorn", "uvloop", "httptools", "httpx", "orjson", "kimi-gateway"):
        out[f"{pkg} (project venv)"] = package_version(project_python, pkg)
    if litellm_python is not None:
        out["Python (litellm venv)"] = _run([str(litellm_python), "--version"])
        for pkg in ("litellm", "uvicorn", "httpx", "aiohttp"):
            out[f"{pkg} (litellm venv)"] = package_version(litellm_python, pkg)
    return out


def node_version() -> str:
    return _run(["node", "--version"])


def npm_version(directory: Path, package: str) -> str:
    """The version of ``package`` installed under ``directory``'s node_modules."""
    manifest = directory / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "not installed"

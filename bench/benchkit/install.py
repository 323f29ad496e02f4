"""Install what the benchmark needs when it is missing: nginx and wrk from Debian (apt-get),
LiteLLM's proxy into its own venv (bench/.work/litellm-venv), py-spy into that venv when
profiling, the Node peers with npm (bench/.work/<peer>-node, benchkit/peers.py). Idempotent;
prints what it does. Registry access only, through the usual clients.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchkit.machine import package_version

PINNED = ("uvicorn", "uvloop", "httptools", "httpx")


class InstallError(Exception):
    """A tool the benchmark needs could not be installed."""


def _sh(argv: list[str], log: Path) -> None:
    print(f"bench: $ {' '.join(argv)}", file=sys.stderr)
    with log.open("ab") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise InstallError(f"{' '.join(argv)} failed ({done.returncode}); see {log}")


def _apt_prefix() -> list[str]:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo"):
        return ["sudo", "-n"]
    raise InstallError("nginx/wrk missing and not root (no sudo): install nginx-light and wrk")


def ensure_debian_tools(work: Path) -> None:
    """nginx (nginx-light) and wrk on PATH (also /usr/sbin for nginx)."""
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    missing = [
        pkg for pkg, exe in (("nginx-light", "nginx"), ("wrk", "wrk")) if not shutil.which(exe)
    ]
    if not missing:
        return
    log = work / "install.log"
    prefix = _apt_prefix()
    _sh([*prefix, "apt-get", "update", "-qq"], log)
    env = ["env", "DEBIAN_FRONTEND=noninteractive"]
    _sh(
        [*prefix, *env, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], log
    )
    if not (shutil.which("nginx") and shutil.which("wrk")):
        raise InstallError("apt-get ran but nginx or wrk is still missing")


def litellm_venv(work: Path) -> Path:
    return work / "litellm-venv"


def ensure_litellm(work: Path) -> Path:
    """The venv's python, with ``litellm[proxy]`` installed."""
    venv = litellm_venv(work)
    python = venv / "bin" / "python"
    if (venv / "bin" / "litellm").exists():
        return python
    log = work / "install.log"
    if not python.exists():
        _sh([sys.executable, "-m", "venv", str(venv)], log)
    _sh([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], log)
    _sh([str(python), "-m", "pip", "install", "-q", "litellm[proxy]"], log)
    return python


def ensure_floor_venv(work: Path, project_python: Path) -> Path:
    """A venv for the aiohttp floor: the project's own uvicorn, uvloop, httptools and httpx
    versions (so only the client differs) plus aiohttp. Returns its python."""
    venv = work / "floor-venv"
    python = venv / "bin" / "python"
    if (venv / ".installed").exists():
        return python
    log = work / "install.log"
    if not python.exists():
        _sh([sys.executable, "-m", "venv", str(venv)], log)
    pins = [f"{pkg}=={package_version(project_python, pkg)}" for pkg in PINNED]
    _sh([str(python), "-m", "pip", "install", "-q", *pins, "aiohttp"], log)
    (venv / ".installed").touch()
    return python


def ensure_py_spy(work: Path) -> Path:
    """The py-spy executable (installed into the LiteLLM venv, never the project's)."""
    found = shutil.which("py-spy")
    if found:
        return Path(found)
    python = ensure_litellm(work)
    exe = python.parent / "py-spy"
    if not exe.exists():
        _sh([str(python), "-m", "pip", "install", "-q", "py-spy"], work / "install.log")
    return exe


def ensure_valgrind(work: Path) -> None:
    """valgrind and callgrind_control on PATH (Debian package), for bench/instructions.py."""
    if shutil.which("valgrind") and shutil.which("callgrind_control"):
        return
    env = ["env", "DEBIAN_FRONTEND=noninteractive"]
    _sh([*_apt_prefix(), *env, "apt-get", "install", "-y", "-qq", "valgrind"], work / "install.log")
    if not shutil.which("callgrind_control"):
        raise InstallError("apt-get ran but valgrind is still missing")


def ensure_strace(work: Path) -> Path | None:
    """strace for syscall counts (Debian package); None if it cannot be had."""
    found = shutil.which("strace")
    if found:
        return Path(found)
    try:
        prefix = _apt_prefix()
        env = ["env", "DEBIAN_FRONTEND=noninteractive"]
        _sh([*prefix, *env, "apt-get", "install", "-y", "-qq", "strace"], work / "install.log")
    except InstallError as exc:
        print(f"bench: no strace ({exc}); profiles go without syscall counts", file=sys.stderr)
        return None
    found = shutil.which("strace")
    return Path(found) if found else None


def ensure_npm_package(work: Path, directory: Path, package_json: str, package: str) -> Path:
    """``package`` installed by npm in ``directory`` from ``package_json`` (reinstalled when that
    changes); returns the package's directory. Install scripts are not run (none is needed to
    serve: Portkey's only one applies patches its published package does not ship)."""
    target = directory / "node_modules" / package
    manifest = directory / "package.json"
    installed = (target / "package.json").exists() and manifest.exists()
    if installed and manifest.read_text() == package_json:
        return target
    if not shutil.which("npm"):
        raise InstallError(f"npm is missing: install Node.js (and npm) to run {package}")
    directory.mkdir(parents=True, exist_ok=True)
    manifest.write_text(package_json)
    _sh(
        [
            "npm",
            "install",
            "--prefix",
            str(directory),
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--loglevel=error",
        ],
        work / "install.log",
    )
    return target

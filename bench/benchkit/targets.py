"""The processes under test and how each is started: argv, environment and config files.

Every target is pinned to the measured CPU (``taskset -c``), runs one worker, and talks to the
fixed nginx upstream on 127.0.0.1. Config rendering is pure; :class:`Process` is the thin
start/stop wrapper around ``subprocess``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from benchkit.cells import Path_

UPSTREAM_KEY = "sk-bench-upstream-key"  # what targets send to nginx (nginx ignores it)
CLIENT_KEY = "sk-bench-client-key"  # what wrk sends to targets (none of them checks it)
BENCH_DIR = Path(__file__).resolve().parent.parent
ROOT = BENCH_DIR.parent

HTTP_CLIENTS = {"httpx": "httpx.AsyncClient", "aiohttp": "aiohttp.ClientSession"}
ENDPOINTS: dict[Path_, str] = {"same": "/v1/chat/completions", "translated": "/v1/messages"}


def client_headers(path: Path_) -> dict[str, str]:
    """What an OpenAI or Anthropic SDK would send besides the body."""
    if path == "same":
        return {"Authorization": f"Bearer {CLIENT_KEY}"}
    return {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    description: str
    argv: list[str]
    env: Mapping[str, str]
    port: int
    paths: tuple[Path_, ...]  # which paths it serves; others are n/a
    startup_seconds: float = 60.0
    files: Mapping[Path, str] = field(default_factory=dict)  # config files to write first
    headers: Mapping[str, str] = field(default_factory=dict)  # sent besides client_headers


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The harness's environment without any Kimi/Moonshot/LiteLLM settings, plus ``extra``:
    a user's real keys must never reach a benchmark target."""
    prefixes = ("KIMI_", "MOONSHOT_", "LITELLM_", "OPENAI_", "ANTHROPIC_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra)
    return env


def gateway_config(upstream: str, data_dir: Path, access_log: str) -> str:
    """kimi-gateway YAML: one Open Platform surface at the fixed upstream, a key so the emulator
    is not started, Anthropic clients translated to the OpenAI face, no gateway keys."""
    return (
        f"api_key: {UPSTREAM_KEY}\n"
        f"base_url: {upstream}/v1\n"
        "anthropic_route: translate\n"
        f"data_dir: {data_dir}\n"
        f"access_log: {access_log!r}\n"
    )


def litellm_config(upstream: str, model: str) -> str:
    """LiteLLM proxy YAML: one OpenAI-compatible route to the fixed upstream, no database."""
    return (
        "model_list:\n"
        f"  - model_name: {model}\n"
        "    litellm_params:\n"
        f"      model: openai/{model}\n"
        f"      api_base: {upstream}/v1\n"
        f"      api_key: {UPSTREAM_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )


def litellm_env() -> dict[str, str]:
    """Telemetry off and no network look-ups at start (the cost map ships with the package)."""
    return {
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_MODE": "PRODUCTION",
        "DISABLE_ADMIN_UI": "True",
        "NO_DOCS": "True",
        # No master key, like the gateway with no keys; newer LiteLLM refuses without this.
        "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
        # Its /v1/messages otherwise calls the upstream's /v1/responses, which Kimi lacks.
        "LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES": "true",
    }


def boost(pid: int) -> bool:
    """Give ``pid`` the highest CPU priority we may: nice -20 and, where the kernel groups
    sessions (sched_autogroup), its session's group too; a nice value alone only orders tasks
    inside their own session's group. True if it worked. On a quiet machine this changes
    nothing; on a shared one the measured processes win their CPUs."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, -20)
        autogroup = Path(f"/proc/{pid}/autogroup")
        if autogroup.exists():
            autogroup.write_text("-20")
    except OSError:
        return False
    return True


class Process:
    """One started target; its output goes to ``log``."""

    def __init__(self, argv: list[str], env: Mapping[str, str], log: Path, cpu: int) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            ["taskset", "-c", str(cpu), *argv],
            env=dict(env),
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.boosted = boost(self.popen.pid)

    @property
    def pid(self) -> int:
        # taskset execs the command, so the pid is the target's own.
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the target's own process group, SIGKILL it if it lingers."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.alive():
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self._out.close()

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


@dataclass(frozen=True, slots=True)
class Lineup:
    """Inputs to build every target's Spec."""

    work: Path
    upstream: str  # http://127.0.0.1:PORT of nginx
    project_python: Path
    litellm_python: Path | None
    model: str
    floor_python: Path | None = None  # both clients (install.ensure_floor_venv)
    gateway_client: str = "httpx"  # the floor uses the gateway's client (gateway_client())


def floor_spec(lineup: Lineup, port: int, alternative: bool = False) -> Spec:
    """The floor with the gateway's own HTTP client ("floor"), or with the other one
    ("floor-<client>", to measure the client choice)."""
    client = lineup.gateway_client
    if alternative:
        client = next(c for c in HTTP_CLIENTS if c != lineup.gateway_client)
    python = lineup.floor_python if alternative else lineup.project_python
    assert python is not None
    return Spec(
        name=f"floor-{client}" if alternative else "floor",
        description="bench/relay_floor.py: bare ASGI byte relay, uvicorn+uvloop+httptools, "
        f"{HTTP_CLIENTS[client]}, no logic, 1 worker (same-dialect path only: a byte relay "
        "does not translate)",
        argv=[
            str(python),
            str(BENCH_DIR / "relay_floor.py"),
            "--upstream",
            lineup.upstream,
            "--port",
            str(port),
            "--client",
            client,
        ],
        env=clean_env({}),
        port=port,
        paths=("same",),
        startup_seconds=30,
    )


def floor_alt_spec(lineup: Lineup, port: int) -> Spec:
    return floor_spec(lineup, port, alternative=True)


def client_in_sources(sources: Iterable[str]) -> str:
    """Which HTTP client the gateway's upstream calls use, judged from its source text."""
    texts = list(sources)
    if any("import aiohttp" in text for text in texts):
        return "aiohttp"
    return "httpx"


def gateway_client() -> str:
    server = ROOT / "src" / "kimi_gateway" / "server"
    return client_in_sources(f.read_text() for f in sorted(server.glob("*.py")))


def gateway_serve_args(config: Path, port: int) -> list[str]:
    """The CLI arguments after the executable (shared with the --baseline target)."""
    return ["serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]


def gateway_spec(lineup: Lineup, port: int) -> Spec:
    config = lineup.work / "gateway.yaml"
    data_dir = lineup.work / "gateway-data"
    exe = lineup.project_python.parent / "kimi-gateway"
    return Spec(
        name="gateway",
        description="kimi-gateway serve (1 worker), Open Platform surface at the fixed upstream, "
        "upstream key set, no gateway keys, access log on (stderr to a file)",
        argv=[str(exe), *gateway_serve_args(config, port)],
        env=clean_env({}),
        port=port,
        paths=("same", "translated"),
        startup_seconds=60,
        files={config: gateway_config(lineup.upstream, data_dir, "-")},
    )


def litellm_spec(lineup: Lineup, port: int) -> Spec:
    assert lineup.litellm_python is not None
    config = lineup.work / "litellm.yaml"
    exe = lineup.litellm_python.parent / "litellm"
    return Spec(
        name="litellm",
        description="LiteLLM proxy (1 worker), one OpenAI-compatible route to the fixed upstream, "
        "no database, telemetry off, default logging",
        argv=[
            str(exe),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        env=clean_env(litellm_env()),
        port=port,
        paths=("same", "translated"),
        startup_seconds=180,
        files={config: litellm_config(lineup.upstream, lineup.model)},
    )

"""The Node peers of issue 15: Portkey's gateway and claude-code-router, installed with npm under
bench/.work/ and run like every target (one process, pinned to the measured CPU, the fixed
nginx upstream), each with its production settings. Config rendering is pure.

- **portkey**: ``@portkey-ai/gateway`` 1.15.2, its direct dependencies pinned (npm
  ``overrides``) to the versions of Portkey's own ``package-lock.json`` at tag v1.15.2: a plain
  install resolves newer ones and breaks its streams. Started as its package's ``bin``
  (``build/start-server.js --headless``) with ``NODE_ENV=production``. Portkey routes by request
  headers, so the load sends ``x-portkey-provider: openai`` and ``x-portkey-custom-host``
  (the upstream) beside the OpenAI SDK's own; it has no key of its own, and the client's bearer
  token goes upstream as the OpenAI key. OpenAI → OpenAI cells.
- **ccr**: ``@musistudio/claude-code-router`` 2.0.0 (3.x needs packages the registry no longer
  serves), ``ccr start`` in the foreground with its config in ``$HOME/.claude-code-router``: one
  provider (the upstream's ``/v1/chat/completions``) as the default route, an ``APIKEY`` (the
  key the load sends, as a production router would have), logging off, non-interactive.
  Anthropic → OpenAI cells (what it is for).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchkit import install, machine
from benchkit.targets import CLIENT_KEY, UPSTREAM_KEY, Lineup, Spec, clean_env

PORTKEY_VERSION = "1.15.2"
# Portkey-AI/gateway, tag v1.15.2, package-lock.json: the locked version of each direct
# dependency its package.json names.
PORTKEY_LOCKED = {
    "@aws-crypto/sha256-js": "5.2.0",
    "@cfworker/json-schema": "4.0.3",
    "@hono/node-server": "1.13.5",
    "@hono/node-ws": "1.2.0",
    "@portkey-ai/mustache": "2.1.3",
    "@smithy/signature-v4": "2.1.1",
    "@types/mustache": "4.2.5",
    "async-retry": "1.3.3",
    "avsc": "5.7.7",
    "hono": "4.9.7",
    "ioredis": "5.8.0",
    "jose": "6.0.11",
    "patch-package": "8.0.1",
    "ws": "8.18.3",
    "zod": "3.25.76",
}
CCR_VERSION = "2.0.0"
PORTKEY_PACKAGE = "@portkey-ai/gateway"
CCR_PACKAGE = "@musistudio/claude-code-router"


def portkey_package_json() -> str:
    """The install directory's package.json: the gateway, its dependencies as Portkey locked
    them."""
    return json.dumps(
        {
            "name": "bench-portkey",
            "private": True,
            "dependencies": {PORTKEY_PACKAGE: PORTKEY_VERSION},
            "overrides": PORTKEY_LOCKED,
        },
        indent=2,
    )


def ccr_package_json() -> str:
    return json.dumps(
        {"name": "bench-ccr", "private": True, "dependencies": {CCR_PACKAGE: CCR_VERSION}},
        indent=2,
    )


def ccr_config(upstream: str, model: str, port: int) -> str:
    """claude-code-router's config.json: one provider at the fixed upstream, the default route."""
    return json.dumps(
        {
            "LOG": False,
            "HOST": "127.0.0.1",
            "PORT": port,
            "APIKEY": CLIENT_KEY,
            "NON_INTERACTIVE_MODE": True,
            "Providers": [
                {
                    "name": "kimi",
                    "api_base_url": f"{upstream}/v1/chat/completions",
                    "api_key": UPSTREAM_KEY,
                    "models": [model],
                }
            ],
            "Router": {"default": f"kimi,{model}"},
        },
        indent=2,
    )


def portkey_headers(upstream: str) -> dict[str, str]:
    return {"x-portkey-provider": "openai", "x-portkey-custom-host": f"{upstream}/v1"}


def install_dir(work: Path, name: str) -> Path:
    return work / f"{name}-node"


def portkey_spec(lineup: Lineup, port: int, node: str = "node") -> Spec:
    root = install_dir(lineup.work, "portkey") / "node_modules" / PORTKEY_PACKAGE
    return Spec(
        name="portkey",
        description=f"Portkey AI gateway {PORTKEY_VERSION} (Node, one process; dependencies as "
        "its package-lock.json pins them), NODE_ENV=production, headless, routed by "
        "x-portkey-provider/x-portkey-custom-host headers to the fixed upstream",
        argv=[node, str(root / "build" / "start-server.js"), f"--port={port}", "--headless"],
        env=clean_env({"NODE_ENV": "production"}),
        port=port,
        paths=("same",),
        startup_seconds=60,
        headers=portkey_headers(lineup.upstream),
    )


def ccr_spec(lineup: Lineup, port: int, node: str = "node") -> Spec:
    home = lineup.work / "ccr-home"
    cli = install_dir(lineup.work, "ccr") / "node_modules" / CCR_PACKAGE / "dist" / "cli.js"
    return Spec(
        name="ccr",
        description=f"claude-code-router {CCR_VERSION} (Node, one process), `ccr start`, one "
        "OpenAI-compatible provider at the fixed upstream as the default route, APIKEY set, "
        "LOG off",
        argv=[node, str(cli), "start"],
        env=clean_env({"HOME": str(home), "NODE_ENV": "production"}),
        port=port,
        paths=("translated",),
        startup_seconds=60,
        files={
            home / ".claude-code-router" / "config.json": ccr_config(
                lineup.upstream, lineup.model, port
            )
        },
    )


def install_peers(work: Path, names: list[str], no_install: bool) -> dict[str, str]:
    """npm-install the peers among ``names`` (unless ``no_install``); their versions as facts."""
    wanted = {
        "portkey": (portkey_package_json(), PORTKEY_PACKAGE),
        "ccr": (ccr_package_json(), CCR_PACKAGE),
    }
    facts: dict[str, str] = {}
    for name, (manifest, package) in wanted.items():
        if name not in names:
            continue
        directory = install_dir(work, name)
        if not no_install:
            install.ensure_npm_package(work, directory, manifest, package)
        facts[f"{name} (npm)"] = machine.npm_version(directory, package)
    if facts:
        facts["node"] = machine.node_version()
    return facts

"""The gateway with its production features on (issues 12, 13 and 15 "Production features on
cost ≤ 10 % more than the plain path"): the targets ``gateway-prod`` and ``gateway-prod-shared``,
and ``gateway-bare``, the path with none (the ``gateway`` target runs the defaults, which
already write the ledger to SQLite and have retries and the breaker on).

The first two are the ``gateway`` target's config plus:

- one gateway key (``config:bench``), the one wrk and the sanity check send (``CLIENT_KEY``);
- retries and the circuit breaker (on by default) and limits for the upstream account and for
  every key, far above what the benchmark offers, so every request is admitted and counted in
  the concurrency, RPM and TPM windows but none ever queues;
- the ledger (on by default: one row per request) and two budgets, the key's per day and the
  whole gateway's per month, each reserved before dispatch and settled after.

``gateway-prod`` keeps that state in memory and the ledger in SQLite (the data directory);
``gateway-prod-shared`` keeps limits, breaker, retry budget and budget counters in the
machine's Redis (under a key prefix made for the run) and the ledger in the machine's
PostgreSQL (in a schema made for the run, dropped after). Config rendering is pure;
:class:`SharedState` makes and drops the run's schema.
"""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
from dataclasses import dataclass

from benchkit.targets import CLIENT_KEY, Lineup, Spec, gateway_serve_args, gateway_spec

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
KEY_NAME = "bench"
HUGE = "{concurrency: 100000, rpm: 100000000, tpm: 1000000000000}"
PROD = "gateway-prod"
SHARED = "gateway-prod-shared"
BARE = "gateway-bare"
# The path with no production feature: the ledger, retries and the breaker are on by default.
BARE_CONFIG = (
    "ledger:\n  enabled: false\n"
    "reliability:\n  retry: {enabled: false}\n  breaker: {enabled: false}\n"
)


def production_config(*, redis_url: str = "", prefix: str = "", database_url: str = "") -> str:
    """The YAML added to the gateway target's config (with ``redis_url``: shared state under
    ``prefix``; with ``database_url``: the ledger there instead of SQLite)."""
    text = (
        "keys:\n"
        f"  - {{name: {KEY_NAME}, key: {CLIENT_KEY}}}\n"
        "reliability:\n"
        "  limits:\n"
        f"    accounts: {{platform: {HUGE}}}\n"
        f"    keys: {HUGE}\n"
    )
    if redis_url:
        text += f"  redis_prefix: {prefix}-rel\n"
    text += (
        "ledger:\n"
        "  budgets:\n"
        f"    - {{key: 'config:{KEY_NAME}', period: day, limit_usd: 1000000}}\n"
        "    - {period: month, limit_usd: 1000000}\n"
    )
    if redis_url:
        text += f"  redis_prefix: '{prefix}-budget:'\nredis_url: {redis_url}\n"
    if database_url:
        text += f"database_url: '{database_url}'\n"
    return text


def _variant(lineup: Lineup, port: int, name: str, extra: str, what: str) -> Spec:
    base = gateway_spec(lineup, port)
    config = lineup.work / f"{name}.yaml"
    plain = next(iter(base.files.values())).replace("gateway-data", f"{name}-data")
    argv = [*base.argv[:1], *gateway_serve_args(config, port)]
    return dataclasses.replace(
        base,
        name=name,
        description=base.description.replace("no gateway keys", "production features on: " + what),
        argv=argv,
        files={config: plain + extra},
    )


def bare_spec(lineup: Lineup, port: int) -> Spec:
    return _variant(
        lineup,
        port,
        BARE,
        BARE_CONFIG,
        "none (no gateway keys; ledger, retries and breaker off, which the defaults turn on)",
    )


def prod_spec(lineup: Lineup, port: int) -> Spec:
    return _variant(
        lineup,
        port,
        PROD,
        production_config(),
        "one gateway key, retries, breaker, account and key limits (in memory, never "
        "queueing), ledger on SQLite, a key and a global budget",
    )


@dataclass(frozen=True, slots=True)
class SharedState:
    """The run's own Redis key prefix and PostgreSQL schema."""

    prefix: str
    schema: str

    @classmethod
    def new(cls) -> SharedState:
        token = secrets.token_hex(4)
        return cls(f"kimi-gateway-bench-{token}", f"bench_{token}")

    @property
    def database_url(self) -> str:
        return f"{POSTGRES}?options=-csearch_path%3D{self.schema}"

    def _psql(self, sql: str) -> None:
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql],
            check=True,
            capture_output=True,
        )

    def create(self) -> None:
        self._psql(f"CREATE SCHEMA {self.schema}")

    def drop(self) -> None:
        self._psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def shared_spec(lineup: Lineup, port: int, state: SharedState) -> Spec:
    extra = production_config(redis_url=REDIS, prefix=state.prefix, database_url=state.database_url)
    return _variant(
        lineup,
        port,
        SHARED,
        extra,
        "as gateway-prod, with limits, breaker, retry budget and budget counters in Redis "
        "(127.0.0.1:6379) and the ledger in PostgreSQL (127.0.0.1:5432)",
    )

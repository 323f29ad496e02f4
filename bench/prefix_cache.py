"""Kimi's prefix cache through the gateway (issue 15 item 5): the share of input tokens Kimi's
cache served and the estimated cost of two 20-turn sessions, through the gateway on every path
and straight to the emulator. Writes bench/PREFIX_CACHE.md.

    .venv/bin/python bench/prefix_cache.py

The sessions are tests/e2e/prefix_replay.py's (a Claude Code session built from the captured
request, an OpenAI-SDK tool loop), also run by tests/e2e/test_prefix_cache.py. The emulator's
cache matches the rendered prompt per key (emulator/prompt_cache.py, docs/kimi.md §12); the
token counts are the emulator's (a plausible tokenizer, not Kimi's). Costs use the ledger's
default price table (ledger/prices.py, docs/kimi.md §20). Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import anthropic  # noqa: E402
import openai  # noqa: E402
import orjson  # noqa: E402
from gateway_server import GatewayServer, settings_for, start_gateway  # noqa: E402
from prefix_replay import (  # noqa: E402
    OPENAI_TOOLS,
    TURNS,
    Session,
    TurnUsage,
    claude_code_opening,
    claude_code_session,
    openai_session,
)

from kimi_gateway.core.usage import Usage  # noqa: E402
from kimi_gateway.emulator import tokens  # noqa: E402
from kimi_gateway.emulator.config import EmulatorConfig  # noqa: E402
from kimi_gateway.emulator.server import EmulatorServer  # noqa: E402
from kimi_gateway.ledger.prices import PriceBook  # noqa: E402

OUT = ROOT / "bench" / "PREFIX_CACHE.md"
PLATFORM_MODEL = "kimi-k2.5"
CODE_MODEL = "kimi-for-coding"


@dataclass
class Row:
    session: str
    path: str
    result: Session


def _cost(book: PriceBook, model: str, session: Session, *, cached: bool = True) -> Decimal:
    read = session.cached if cached else 0
    usage = Usage(
        input_uncached=session.prompt - read, input_cache_read=read, output=session.output
    )
    found = book.cost(None, model, date.today(), usage)
    return found if found is not None else Decimal(0)


def _anthropic(url: str, key: str = "any") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)


class Bench:
    def __init__(self, emulator: EmulatorServer, tmp: Path) -> None:
        self.emulator = emulator
        self.tmp = tmp
        self.rows: list[Row] = []

    def gateway(self, **overrides: Any) -> GatewayServer:
        where = self.tmp / f"gw{len(list(self.tmp.iterdir()))}"
        where.mkdir()
        return start_gateway(settings_for(self.emulator, where, **overrides), self.emulator)

    def run(self, session: str, path: str, replay: Callable[[], Session]) -> None:
        self.emulator.state.reset()  # each run starts with an empty cache
        result = replay()
        self.rows.append(Row(session, path, result))
        print(f"{session:28} {path:44} {result.cached:>6}/{result.prompt:<6} {result.ratio:.3f}")


def _openai_runs(bench: Bench, gateway: GatewayServer) -> None:
    direct = openai.OpenAI(base_url=bench.emulator.platform_url, api_key="sk-direct", max_retries=0)
    through = openai.OpenAI(base_url=gateway.openai_url, api_key="any", max_retries=0)
    name = "OpenAI-SDK tool loop"
    bench.run(name, "direct → platform", lambda: openai_session(direct, PLATFORM_MODEL, "d"))
    bench.run(name, "gateway → platform", lambda: openai_session(through, PLATFORM_MODEL, "g"))
    code = openai.OpenAI(base_url=bench.emulator.kimi_code_url, api_key="sk-kimi-d", max_retries=0)
    key = {"prompt_cache_key": "session-1"}  # what Kimi's own client sends (docs/kimi.md §13.1)
    bench.run(name, "direct → Kimi Code", lambda: openai_session(code, CODE_MODEL, "d", 1, key))
    bench.run(name, "gateway → Kimi Code", lambda: openai_session(through, CODE_MODEL, "g"))


def _claude_runs(bench: Bench, gateway: GatewayServer, translate: GatewayServer) -> None:
    name, url = "Claude Code", bench.emulator.url
    runs: list[tuple[str, anthropic.Anthropic, str]] = [
        (
            "direct → platform Anthropic route",
            _anthropic(url + "/anthropic", "sk-d"),
            PLATFORM_MODEL,
        ),
        ("gateway → platform Anthropic route", _anthropic(gateway.url), PLATFORM_MODEL),
        ("gateway → platform OpenAI face (translate)", _anthropic(translate.url), PLATFORM_MODEL),
        ("direct → Kimi Code", _anthropic(url + "/coding", "sk-kimi-d"), CODE_MODEL),
        ("gateway → Kimi Code", _anthropic(gateway.url), CODE_MODEL),
    ]
    for path, client, model in runs:
        bench.run(name, path, partial(claude_code_session, client, model, "cc"))


def _process_runs(bench: Bench, policy: str) -> None:
    """Two gateways: a restart half-way, and two replicas taking turns."""
    quirks = {"foreign_thinking": policy}
    clients = [_anthropic(bench.gateway(quirks=quirks).url) for _ in range(2)]
    name = f"Claude Code, {policy}"
    bench.run(
        name,
        "gateway restarted at turn 10 → platform",
        lambda: claude_code_session(lambda t: clients[t >= TURNS // 2], PLATFORM_MODEL, "r"),
    )
    bench.run(
        name,
        "two gateway replicas in turn → platform",
        lambda: claude_code_session(lambda t: clients[t % 2], PLATFORM_MODEL, "a"),
    )


def _dropped_reasoning_runs(bench: Bench) -> None:
    """OpenAI apps that send the assistant turn back without reasoning_content: the gateway
    puts back what it remembered (quirks.remember_reasoning, in memory without redis_url)."""
    clients = [
        openai.OpenAI(base_url=bench.gateway().openai_url, api_key="any", max_retries=0)
        for _ in range(2)
    ]
    name = "OpenAI-SDK, reasoning dropped"
    for path, pick in (
        ("one gateway → platform", lambda t: clients[0]),
        ("gateway restarted at turn 10 → platform", lambda t: clients[t >= TURNS // 2]),
        ("two gateway replicas in turn → platform", lambda t: clients[t % 2]),
    ):
        bench.run(
            name, path, partial(openai_session, pick, PLATFORM_MODEL, "o", keep_reasoning=False)
        )


def _schema_tokens(session: str) -> int:
    """Tokens of the tools' descriptions and schemas, which the emulator does not count (it
    counts a tool by its name): sent every turn, the same every turn."""
    tools = claude_code_opening()["tools"] if session.startswith("Claude") else OPENAI_TOOLS
    return tokens.count_text_tokens(orjson.dumps(tools).decode())


def _with_schemas(session: Session, extra: int) -> Session:
    """The session as if each turn also carried `extra` tool tokens, cached after turn one (no
    turn here changed the tools, the head of the prefix)."""
    turns = [
        TurnUsage(t.prompt + extra, t.cached + (extra if i else 0), t.output)
        for i, t in enumerate(session.turns)
    ]
    return Session(session.name, session.model, turns)


def _table(rows: list[Row], book: PriceBook) -> list[str]:
    lines = [
        "| session | path | turns | input tokens | cached | cached share | cost (USD) "
        "| cost with no cache (USD) | share, schemas counted | cost, schemas counted (USD) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        s = row.result
        cost, uncached = _cost(book, s.model, s), _cost(book, s.model, s, cached=False)
        full = _with_schemas(s, _schema_tokens(row.session))
        lines.append(
            f"| {row.session} | {row.path} ({s.model}) | {len(s.turns)} | {s.prompt:,} "
            f"| {s.cached:,} | {s.ratio:.3f} | {cost:.6f} | {uncached:.6f} "
            f"| {full.ratio:.3f} | {_cost(book, s.model, full):.6f} |"
        )
    return lines


def _report(rows: list[Row]) -> str:
    book = PriceBook()
    return "\n".join(
        [
            "# Kimi's prefix cache through the gateway",
            "",
            "Issue 15 item 5: the share of input tokens Kimi's cache served, and the estimated",
            "cost, of two 20-turn sessions replayed through the gateway and straight to the",
            "emulator (whose cache matches the rendered prompt per key, docs/kimi.md §12).",
            "Written by `bench/prefix_cache.py`; `bench/README.md` says what runs.",
            "",
            *_table(rows, book),
            "",
            *NOTES,
        ]
    )


NOTES = [
    "How to read it:",
    "",
    "- Cached share = cached input tokens / all input tokens of the session's 20 turns. A turn",
    "  can at best find the whole previous turn cached; the rest (the newest exchange) is new.",
    "- Cost = uncached input × cache-miss price + cached input × cache-hit price + output × output",
    "  price (ledger/prices.py: kimi-k2.5 $0.60 / $0.10 / $3.00 per million; Kimi Code is a plan",
    "  billed in credits, priced 0). The token counts are the emulator's, which count a tool by",
    "  its name only; the last two columns add the tools' descriptions and schemas (Claude",
    "  Code's 24 tools are 23 KB), sent every turn and cached after the first, as Kimi bills them.",
    "- Paths with the same client and the same upstream face render the same bytes as the",
    "  direct client, turn after turn: the same share. The translated path sends the history",
    "  to the OpenAI face (another rendering, so other token counts), and still finds each",
    "  previous turn whole.",
    "- Restarts and replicas: the thinking signatures a gateway remembers are its process's own.",
    "  With `quirks.foreign_thinking: drop` Kimi's earlier thinking blocks count as foreign after",
    "  a restart or on the other replica and are dropped (a placeholder fills the turn), so the",
    "  history Kimi reads changes from the first of them on and the cache misses it. The default,",
    "  `unsigned`, sends their text without the signature: the same history, every turn cached.",
    "- OpenAI-SDK apps that drop `reasoning_content`: the gateway puts back the reasoning it",
    "  remembered (`quirks.remember_reasoning`). The memory is per process unless `redis_url` is",
    "  set: after a restart the earlier turns get the placeholder instead, a change of history",
    "  (one miss of everything after the first tool turn), and replicas without Redis miss the",
    "  other replica's turns every time. Run replicas with `redis_url`; a restart still costs",
    "  one turn's cache per open conversation (not fixed here: it needs a store that outlives",
    "  the process).",
]


def main() -> None:
    emulator = EmulatorServer(EmulatorConfig()).start()
    with tempfile.TemporaryDirectory() as scratch:
        bench = Bench(emulator, Path(scratch))
        try:
            gateway, translate = bench.gateway(), bench.gateway(anthropic_route="translate")
            _openai_runs(bench, gateway)
            _claude_runs(bench, gateway, translate)
            for policy in ("unsigned", "drop"):
                _process_runs(bench, policy)
            _dropped_reasoning_runs(bench)
        finally:
            emulator.stop()
    OUT.write_text(_report(bench.rows) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

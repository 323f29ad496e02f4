"""In-process CPU of the large-body hot path: bytes → canonical Request → Kimi's wire bytes.

A quick harness for iterating (issue 15 items 2-3); the served bench (bench/large_bodies.py) is
the final word. Per body: the server's decode and parse (server/request_body.py), the Open
Platform OpenAI face's quirks + render + wire fix-ups, ``orjson.dumps``; with the message memo
and the tool-schema memo as the server has them, unless ``--no-memo``. ``time.process_time``
around N repetitions; ``--profile`` prints a cProfile of the long histories; ``--session``
measures turn N+1 of a growing session (each turn one new tool round).

    .venv/bin/python bench/large_inproc.py [--reps 200] [--profile] [--session] [--no-memo]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import large

from kimi_gateway.dialects.registry import DIALECTS
from kimi_gateway.server.request_body import parse_request
from kimi_gateway.upstreams.kimi.adapter import PLATFORM_GLOBAL, build_upstream_request
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for

MODEL = "kimi-k2.6"
MEMO = "--no-memo" not in sys.argv


def _no_fill(body: dict[str, object]) -> None:
    pass


def _memo() -> Any:
    """The server's message memo, or None at a git ref older than it (``--ref``-style runs)."""
    try:
        from kimi_gateway.core.memo import BytesLRU
    except ImportError:
        return None
    return BytesLRU(32 << 20)


DIALECT_OF = {
    "/v1/chat/completions": "openai_chat",
    "/v1/messages": "anthropic_messages",
    "/v1/responses": "openai_responses",
}


def pipeline(route: str, policy: QuirkPolicy) -> Callable[[bytes], bytes]:
    dialect = DIALECTS[DIALECT_OF[route]]  # type: ignore[index]
    profile = profile_for(MODEL, product="platform")
    memo = _memo() if MEMO else None
    schemas = _memo() if MEMO else None

    def run(raw: bytes) -> bytes:
        if memo is None:  # also the signature of refs older than the memo
            request = parse_request(raw, dialect, _no_fill, 1 << 30)
        else:
            request = parse_request(raw, dialect, _no_fill, 1 << 30, memo)
        if memo is None:
            call = build_upstream_request(request, PLATFORM_GLOBAL, profile, policy)
        else:  # as KimiUpstream builds it: with its tool-schema memo
            call = build_upstream_request(
                request, PLATFORM_GLOBAL, profile, policy, schema_memo=schemas
            )
        return orjson.dumps(call.body)

    return run


def cpu_ms(run: Callable[[bytes], bytes], raw: bytes, reps: int) -> float:
    run(raw)  # warm
    start = time.process_time()
    for _ in range(reps):
        run(raw)
    return (time.process_time() - start) * 1000 / reps


def table(reps: int, policy: QuirkPolicy) -> None:
    print("| body | path | KB | CPU ms/req | CPU ms/MB |")
    print("|---|---|---:|---:|---:|")
    for body in large.bodies():
        raw = body.encoded(stream=False, model=MODEL)
        ms = cpu_ms(pipeline(body.route, policy), raw, reps)
        kb = len(raw) / 1000
        print(f"| {body.name} | {body.path} | {kb:.1f} | {ms:.3f} | {ms / (kb / 1000):.1f} |")


def session(policy: QuirkPolicy, turns: int = 40) -> None:
    print("| session | turn | KB | CPU ms this turn |")
    print("|---|---:|---:|---:|")
    for anthropic, route in ((True, "/v1/messages"), (False, "/v1/chat/completions")):
        run = pipeline(route, policy)
        for turn, raw in enumerate(large.growing_session(anthropic, turns, 100_000)):
            start = time.process_time()
            for _ in range(5):
                run(raw)
            ms = (time.process_time() - start) * 1000 / 5
            if turn in (0, 1, 2, turns // 2, turns - 1):
                name = "anthropic" if anthropic else "openai"
                print(f"| {name} | {turn + 1} | {len(raw) / 1000:.1f} | {ms:.3f} |")


def profile(policy: QuirkPolicy) -> None:
    for body in large.bodies()[-2:]:
        raw = body.encoded(stream=False, model=MODEL)
        run = pipeline(body.route, policy)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(50):
            run(raw)
        prof.disable()
        print(f"## {body.name}")
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--session", action="store_true")
    parser.add_argument("--no-memo", action="store_true", help="message_memo_bytes: 0")
    args = parser.parse_args()
    policy = QuirkPolicy()
    if args.profile:
        profile(policy)
    elif args.session:
        session(policy)
    else:
        table(args.reps, policy)


if __name__ == "__main__":
    main()

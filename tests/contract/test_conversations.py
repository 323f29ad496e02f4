"""Every case of cases.py through every pair, stream and non-stream: the reply as our client
dialect reads it back and as the client's SDK reads it, and the diagnostics."""

from __future__ import annotations

import re
from dataclasses import replace

import orjson
import pytest

from kimi_gateway.core.model import Response, ToolCallPart

from . import sdk_view
from .case_model import Case
from .cases import CASES
from .conftest import Converse
from .conversation import expectation, expected, normalised
from .pipeline import ALL_PAIRS, Pair

ANTHROPIC_ID = re.compile(r"[a-zA-Z0-9_-]+")
MODES = [pytest.param(False, id="json"), pytest.param(True, id="sse")]


@pytest.mark.parametrize("stream", MODES)
@pytest.mark.parametrize("pair", ALL_PAIRS, ids=lambda p: p.id)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reply(conversations: Converse, case: Case, pair: Pair, stream: bool) -> None:
    outcomes = conversations(case, pair, stream)
    for turn, outcome in zip(case.turns, outcomes, strict=True):
        assert normalised(outcome.response) == expected(turn, pair, stream=stream)
        seen = sdk_view.read(pair.client, outcome.body, outcome.sse)
        assert normalised(seen) == expected(turn, pair, stream=stream, sdk=True)
        if pair.client == "anthropic":  # docs/kimi.md §F2.5: Anthropic clients check ids
            ids = [p.id for p in seen.parts if isinstance(p, ToolCallPart)]
            assert all(ANTHROPIC_ID.fullmatch(i) for i in ids), ids


# Bugs found by this suite, for the lead to fix (each an exact reason; strict: a fix shows up).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _diagnostic_params() -> list[object]:
    params: list[object] = []
    for case in CASES:
        for pair in ALL_PAIRS:
            for stream in (False, True):
                reason = KNOWN_BUGS.get((case.name, pair.id))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                mode = "sse" if stream else "json"
                test_id = f"{case.name}-{pair.id}-{mode}"
                params.append(pytest.param(case, pair, stream, marks=marks, id=test_id))
    return params


@pytest.mark.parametrize(("case", "pair", "stream"), _diagnostic_params())
def test_diagnostics(conversations: Converse, case: Case, pair: Pair, stream: bool) -> None:
    """Exactly the expected diagnostic codes, request side (client parse, quirks, upstream
    render) and reply side (upstream parse, client render), on every turn."""
    for turn, outcome in zip(case.turns, conversations(case, pair, stream), strict=True):
        assert outcome.diagnostic_codes == expectation(turn, pair).diagnostics


def meaning(response: Response | None, upstream: str) -> Response:
    """A reply without what legitimately differs between a JSON reply and a stream: the time,
    the bytes (not the value) of tool arguments — Kimi's Anthropic faces send ``input`` as an
    object in JSON and as the scripted text in ``input_json_delta`` — and the reasoning count,
    which Kimi's OpenAI streams do not report (docs/kimi.md §7.1)."""
    assert response is not None
    parts = tuple(
        replace(p, arguments=orjson.dumps(orjson.loads(p.arguments)).decode())
        if isinstance(p, ToolCallPart)
        else p
        for p in response.parts
    )
    usage = response.usage
    if upstream == "openai":
        usage = replace(usage, reasoning=0)
    return replace(response, parts=parts, usage=usage, created=None)


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=lambda p: p.id)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_stream_folds_to_the_json_reply(conversations: Converse, case: Case, pair: Pair) -> None:
    """Non-streaming is the stream folded: every turn, as our client dialect and as the SDK read
    it (both runs start from a reset emulator, so ids and cached tokens match too)."""
    whole = conversations(case, pair, False)
    streamed = conversations(case, pair, True)
    upstream = pair.upstream.name
    for one, other in zip(whole, streamed, strict=True):
        assert meaning(other.response, upstream) == meaning(one.response, upstream)
        sdk_one = sdk_view.read(pair.client, one.body, None)
        sdk_other = sdk_view.read(pair.client, None, other.sse)
        assert meaning(sdk_other, upstream) == meaning(sdk_one, upstream)

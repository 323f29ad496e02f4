"""Running a case of cases.py turn by turn through one pair, and what each turn must give.

``converse`` starts from a reset emulator (fresh tool-call counter and prompt cache), sends each
turn, and builds the next turn from the reply as the client read it back. ``expected`` is the
canonical reply a turn must produce for a pair, as our client dialect reads it back
or as the client's SDK sees it (``sdk=True``: the Anthropic client sees the encoded tool ids of
dialects/anthropic_messages/tool_ids.py). ``Conversations`` keeps each run for the session, so
the tests that check one run from different angles share it.
"""

from __future__ import annotations

from dataclasses import replace

import orjson

from kimi_gateway.core.model import Message, Part, Response, TextPart, ThinkingPart, ToolCallPart
from kimi_gateway.core.usage import Usage
from kimi_gateway.dialects.anthropic_messages.tool_ids import encode_tool_id
from kimi_gateway.emulator.anthropic_signing import sign_thinking, signing_key
from kimi_gateway.emulator.server import EmulatorServer

from .case_model import Call, Case, Expect, Turn, next_messages
from .pipeline import Outcome, Pair, Runner, run


def converse(
    server: EmulatorServer, http: Runner, pair: Pair, case: Case, *, stream: bool
) -> list[Outcome]:
    """Every turn of ``case`` through ``pair``; each reply must be a 200."""
    server.reset()
    outcomes: list[Outcome] = []
    history: tuple[Message, ...] = ()
    reply: Response | None = None
    for turn in case.turns:
        history = next_messages(history, reply, turn)
        outcome = run(server, http, pair, case.request(history), stream=stream)
        assert outcome.status == 200, (outcome.status, outcome.body, outcome.upstream_raw)
        assert outcome.stream_error is None, outcome.stream_error
        outcomes.append(outcome)
        reply = outcome.response
    return outcomes


def expectation(turn: Turn, pair: Pair) -> Expect:
    return turn.expect_for(pair.id, pair.upstream.name)


def expected(turn: Turn, pair: Pair, *, stream: bool, sdk: bool = False) -> Response:
    """The reply, normalised as :func:`normalised` leaves it (no id, created, usage): as our
    client dialect reads it back, or (``sdk``) as the client's SDK reads it."""
    expect = expectation(turn, pair)
    parts: list[Part] = []
    if expect.thinking is not None:
        parts.append(ThinkingPart(expect.thinking, signature=_signature(expect.thinking, pair)))
    if expect.text is not None:
        parts.append(TextPart(expect.text))
    parts.extend(_call(call, pair, stream, sdk) for call in expect.calls)
    return Response(
        id="",
        model=pair.upstream.reported_model,
        parts=tuple(parts),
        stop_reason=expect.stop,
        usage=Usage(),
    )


def normalised(response: Response | None) -> Response:
    """Without what differs between runs and modes: ids, created, usage, diagnostics."""
    assert response is not None
    return replace(response, id="", created=None, usage=Usage(), diagnostics=())


def _signature(thinking: str, pair: Pair) -> str | None:
    """Kimi Code signs thinking (§13.3); only an Anthropic client has a field to carry it."""
    if pair.client == "anthropic" and pair.upstream.name == "anthropic":
        return sign_thinking(signing_key(0), thinking)  # the emulator's default seed
    return None


def _call(call: Call, pair: Pair, stream: bool, sdk: bool) -> ToolCallPart:
    # Kimi's OpenAI face names calls `name:n` (§8.1); its Anthropic faces send `name_n`.
    separator = ":" if pair.upstream.name == "openai" else "_"
    call_id = f"{call.name}{separator}{call.n}"
    if sdk and pair.client == "anthropic":
        call_id = encode_tool_id(call_id)  # the id the client sees; our parser decodes it
    return ToolCallPart(call_id, call.name, _arguments(call, pair, stream, sdk))


def _arguments(call: Call, pair: Pair, stream: bool, sdk: bool) -> str:
    """Byte-exact where every hop carries JSON text (OpenAI ``arguments``, Anthropic
    ``input_json_delta``); compact JSON where one holds an object (Anthropic ``tool_use.input``
    in a JSON reply, and the Anthropic SDK, which parses the deltas into ``input``)."""
    text_all_the_way = stream or (pair.client == "openai" and pair.upstream.name == "openai")
    if text_all_the_way and not (sdk and pair.client == "anthropic"):
        return call.arguments
    return orjson.dumps(orjson.loads(call.arguments)).decode()


class Conversations:
    """Each conversation run once per test session and shared by the tests that check it: a run
    starts from a reset emulator, so it is a value (ids, counters and cache hits included)."""

    def __init__(self, http: Runner) -> None:
        self._http = http
        self._runs: dict[tuple[str, str, bool], list[Outcome]] = {}

    def get(self, server: EmulatorServer, case: Case, pair: Pair, stream: bool) -> list[Outcome]:
        key = (case.name, pair.id, stream)
        if key not in self._runs:
            self._runs[key] = converse(server, self._http, pair, case, stream=stream)
        return self._runs[key]

"""Upstream failures through every pair: scripted Kimi errors answered in the client's dialect
(status, type, Kimi's message, the SDK's exception), and a stream cut off mid-way ending in the
client dialect's own stream error."""

from __future__ import annotations

import anthropic
import openai
import orjson
import pytest

from kimi_gateway.emulator.server import EmulatorServer

from . import sdk_view
from .case_model import user
from .cases import CUT_MID_STREAM
from .error_cases import ERROR_CASES, ErrorCase
from .pipeline import ALL_PAIRS, Pair, Runner, run
from .usage_view import sse_payloads

MODES = [pytest.param(False, id="json"), pytest.param(True, id="sse")]
OPENAI_EXCEPTIONS: dict[int, type[Exception]] = {
    400: openai.BadRequestError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    503: openai.InternalServerError,
}
ANTHROPIC_EXCEPTIONS: dict[int, type[Exception]] = {
    400: anthropic.BadRequestError,
    402: anthropic.PaymentRequiredError,
    429: anthropic.RateLimitError,
    500: anthropic.InternalServerError,
    503: anthropic.ServiceUnavailableError,
    529: anthropic.OverloadedError,
}


@pytest.mark.parametrize("stream", MODES)
@pytest.mark.parametrize("pair", ALL_PAIRS, ids=lambda p: p.id)
@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.name)
def test_scripted_error(
    kimi_emulator: EmulatorServer, http: Runner, case: ErrorCase, pair: Pair, stream: bool
) -> None:
    """Errors before the first byte are JSON, streaming or not (§2.1), so both modes agree."""
    request = CUT_MID_STREAM.request((user("Hi " + case.marker),))
    outcome = run(kimi_emulator, http, pair, request, stream=stream)
    upstream_error = orjson.loads(outcome.upstream_raw)["error"]
    parsed = pair.upstream_dialect.parse_error(
        outcome.upstream_status, outcome.upstream_raw, outcome.upstream_headers
    )
    kind, openai_status, anthropic_status = case.expect(pair.upstream.name)
    assert parsed.kind == kind
    message = upstream_error["message"]  # Kimi's own words reach the client
    if pair.client == "openai":
        status, wire_type = openai_status
        body: dict[str, object] = {
            "error": {
                "message": message,
                "type": wire_type,
                "param": None,
                "code": upstream_error["type"],  # Kimi's type, kept for the client
            }
        }
        exception = OPENAI_EXCEPTIONS[status]
    else:
        status, wire_type = anthropic_status
        body = {
            "type": "error",
            "error": {"type": wire_type, "message": message},
            "request_id": outcome.upstream_headers["msh-request-id"],
        }
        exception = ANTHROPIC_EXCEPTIONS[status]
    assert (outcome.status, outcome.body) == (status, body)
    raised = sdk_view.error(pair.client, outcome.status, outcome.body, None)
    assert type(raised) is exception
    assert getattr(raised, "status_code", None) == status


def _tail(pair: Pair) -> bytes:
    """The dialect's mid-stream error, as the last bytes of the client's stream: the gateway's
    HTTP client sees the dropped line itself (before any parser could notice the early end)."""
    message = "the Kimi upstream 127.0.0.1 broke off its response"
    if pair.client == "openai":
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        return b"data: " + orjson.dumps({"error": error}) + b"\n\ndata: [DONE]\n\n"
    data = {"type": "error", "error": {"type": "api_error", "message": message}}
    return b"event: error\ndata: " + orjson.dumps(data) + b"\n\n"


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=lambda p: p.id)
def test_cut_mid_stream(kimi_emulator: EmulatorServer, http: Runner, pair: Pair) -> None:
    """Kimi drops the line after two events: what arrived is passed on, then the client
    dialect's stream error (OpenAI: an ``error`` chunk and ``[DONE]``; Anthropic:
    ``event: error``), which the SDK raises."""
    kimi_emulator.reset()
    request = CUT_MID_STREAM.request(CUT_MID_STREAM.turns[0].messages)
    outcome = run(kimi_emulator, http, pair, request, stream=True)
    assert outcome.sse is not None
    assert outcome.sse.endswith(_tail(pair))
    assert outcome.stream_error is not None
    assert outcome.stream_error.kind == "server"
    raised = sdk_view.error(pair.client, 200, None, outcome.sse)
    if pair.client == "openai":
        assert type(raised) is openai.APIError
        assert raised.message == outcome.stream_error.message
    else:
        assert type(raised) is anthropic.APIStatusError
        assert raised.body == orjson.loads(_tail(pair).split(b"data: ")[1])
    # What arrived before the cut was passed on: the same text, read off both wires.
    arrived = _text(pair.upstream.name, outcome.upstream_raw)
    assert arrived in ("one", "one two")
    assert _text(pair.client, outcome.sse) == arrived


def _text(dialect: str, raw: bytes) -> str:
    """The reply text of a stream, read straight off the wire."""
    pieces = []
    for _, data in sse_payloads(raw):
        if dialect == "openai":
            pieces += [choice["delta"].get("content") or "" for choice in data.get("choices", ())]
        elif data.get("type") == "content_block_delta":
            pieces.append(data["delta"].get("text") or "")
    return "".join(pieces)

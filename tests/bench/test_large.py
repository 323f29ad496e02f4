"""benchkit/large.py: the large-body cells' requests (issue 15 item 2) are the captured ones,
the long histories are ~150 KB and valid for their dialect, and a growing session grows by one
tool round per turn, its earlier messages unchanged."""

import orjson
import pytest
from benchkit import large

from kimi_gateway.dialects.registry import DIALECTS


def test_every_cell_body_parses_in_its_dialect() -> None:
    dialects = {
        "/v1/chat/completions": "openai_chat",
        "/v1/messages": "anthropic_messages",
        "/v1/responses": "openai_responses",
    }
    names = []
    for body in large.bodies():
        dialect = DIALECTS[dialects[body.route]]  # type: ignore[index]
        request = dialect.parse_request(orjson.loads(body.encoded(False)))
        assert request.messages
        names.append(body.name)
    assert names == [
        "claude-code",
        "openclaw-anthropic",
        "openclaw-openai",
        "codex",
        "long-anthropic",
        "long-openai",
    ]


@pytest.mark.parametrize("anthropic", [True, False])
def test_a_long_history_is_about_150_kb_and_the_same_every_time(anthropic: bool) -> None:
    first = orjson.dumps(large.long_history(anthropic))
    assert 140_000 <= len(first) <= 160_000
    assert orjson.dumps(large.long_history(anthropic)) == first


def test_a_growing_session_adds_one_round_per_turn() -> None:
    turns = [orjson.loads(raw) for raw in large.growing_session(True, 3, 50_000)]
    counts = [len(t["messages"]) for t in turns]
    assert counts[1] - counts[0] == counts[2] - counts[1] == 2
    assert turns[2]["messages"][: counts[0]] == turns[0]["messages"]
    assert all(t["stream"] is False for t in turns)

"""The emulator's checks of response_format (json_object, json_schema with Kimi's MFJS rules)
and of the top_p and penalty ranges (docs/kimi.md §4.2, §5.1, §8.6; issue 9 item 13)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import HI
from .test_anthropic_support import CODING, post

ENUM_ONLY = {"type": "object", "properties": {"unit": {"enum": ["c", "f"]}}}
MFJS_ERROR = (
    "Invalid request: response_format.json_schema.schema is not a valid moonshot flavored json "
    "schema, details: <At path '{path}': {reason}>"
)
REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("top_p over 1", {"top_p": 1.5}, "invalid top_p: 1.5, must be in [0, 1]"),
    ("top_p under 0", {"top_p": -0.1}, "invalid top_p: -0.1, must be in [0, 1]"),
    (
        "presence_penalty over 2",
        {"presence_penalty": 2.5},
        "invalid presence_penalty: 2.5, must be in [-2, 2]",
    ),
    (
        "frequency_penalty under -2",
        {"frequency_penalty": -3},
        "invalid frequency_penalty: -3, must be in [-2, 2]",
    ),
    (
        "top_p not a number",
        {"top_p": "high"},
        "invalid top_p: 'high', must be in [0, 1]",
    ),
    (
        "unknown response_format type",
        {"response_format": {"type": "xml"}},
        "Invalid request: response_format.type must be one of text, json_object, json_schema",
    ),
    (
        "json_schema without its object",
        {"response_format": {"type": "json_schema"}},
        "Invalid request: response_format.json_schema is required",
    ),
    (
        "strict json_schema that is not MFJS",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": ENUM_ONLY},
            }
        },
        MFJS_ERROR.format(path="properties.unit", reason="type is not defined"),
    ),
]
ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("edges of the ranges", {"top_p": 0, "presence_penalty": -2, "frequency_penalty": 2}),
    ("json_object", {"response_format": {"type": "json_object"}}),
    ("text", {"response_format": {"type": "text"}}),
    (
        "json_schema without a schema",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
    ),
    (
        "non-strict json_schema is not checked",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "strict": False, "schema": ENUM_ONLY},
            }
        },
    ),
    (
        "strict MFJS json_schema",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "x",
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                },
            }
        },
    ),
]


@pytest.mark.parametrize(
    ("fields", "message"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected_with_kimis_shape(raw: httpx.Client, fields: dict[str, Any], message: str) -> None:
    body = {"model": "moonshot-v1-8k", "messages": HI, **fields}
    response = raw.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": {"type": "invalid_request_error", "message": message}}


@pytest.mark.parametrize("fields", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted(raw: httpx.Client, fields: dict[str, Any]) -> None:
    body = {"model": "moonshot-v1-8k", "messages": HI, **fields}
    response = raw.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text


def test_signature_checks_can_be_switched_off(kimi_emulator_factory: Any) -> None:
    """Kimi Code's refusal of edited thinking has no public source (§13.3 [3M]): a switch."""
    replay = [
        {"role": "user", "content": "first"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "I thought.", "signature": "forged"},
                {"type": "text", "text": "answer"},
            ],
        },
        {"role": "user", "content": "second"},
    ]
    body = {"model": "k3", "max_tokens": 200, "messages": replay}
    for verify, status in ((True, 400), (False, 200)):
        emulator = kimi_emulator_factory(anthropic={"verify_signatures": verify})
        assert post(emulator, CODING, body).status_code == status

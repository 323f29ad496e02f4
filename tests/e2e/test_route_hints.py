"""Unknown routes (issue 9 item 12): a client with the wrong base URL gets a 404 in the dialect
its path implies, with the base URL it should use, through the official SDKs; the access log
names the path it asked for."""

from __future__ import annotations

import time
from typing import Any

import anthropic
import httpx
import openai
import pytest

ANTHROPIC_FAMILY = (
    "Anthropic clients that add /v1/messages themselves (the Anthropic SDKs, Claude Code,"
    " OpenClaw) take the base URL {url}; clients that add only /messages take {url}/v1."
)
OPENAI_FAMILY = "OpenAI clients (Chat Completions, Responses) take the base URL {url}/v1."


def _anthropic_404(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "not_found_error", "message": message}}


def test_anthropic_sdk_with_v1_in_its_base_url(gateway: Any) -> None:
    """The Anthropic SDK adds /v1/messages itself: a base URL ending in /v1 makes /v1/v1."""
    client = anthropic.Anthropic(base_url=gateway.url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(
            model="kimi-k2.6", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    family = ANTHROPIC_FAMILY.format(url=gateway.url)
    assert caught.value.body == _anthropic_404(
        "Unknown request URL: POST /v1/v1/messages. The gateway serves this at /v1/messages:"
        f" remove /v1 from the end of the client's base URL. {family}"
    )


def test_a_client_that_adds_only_messages_is_told_to_add_v1(gateway: Any) -> None:
    reply = httpx.post(gateway.url + "/messages", json={})
    assert reply.status_code == 404
    family = ANTHROPIC_FAMILY.format(url=gateway.url)
    assert reply.json() == _anthropic_404(
        "Unknown request URL: POST /messages. This client adds /messages to its base URL, so the"
        f" base URL should be {gateway.url}/v1. {family}"
    )


def test_kimi_anthropic_base_url_copied_into_the_client(gateway: Any) -> None:
    client = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key="x", max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.count_tokens(
            model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}]
        )
    family = ANTHROPIC_FAMILY.format(url=gateway.url)
    assert caught.value.body == _anthropic_404(
        "Unknown request URL: POST /anthropic/v1/messages/count_tokens. The gateway serves this"
        " at /v1/messages/count_tokens: remove /anthropic from the end of the client's base URL."
        f" {family}"
    )


def _chat(client: openai.OpenAI) -> object:
    return client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}]
    )


def _responses(client: openai.OpenAI) -> object:
    return client.responses.create(model="kimi-k2.6", input="hi")


@pytest.mark.parametrize(
    ("suffix", "call"), [("/chat/completions", _chat), ("/responses", _responses)]
)
def test_openai_sdk_without_v1(gateway: Any, suffix: str, call: Any) -> None:
    client = openai.OpenAI(base_url=gateway.url, api_key="x", max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        call(client)
    assert caught.value.body == {
        "message": f"Unknown request URL: POST {suffix}. This client adds {suffix} to its base"
        f" URL, so the base URL should be {gateway.url}/v1. "
        + OPENAI_FAMILY.format(url=gateway.url),
        "type": "not_found_error",
        "param": None,
        "code": None,
    }


def test_other_paths_list_what_is_served(gateway: Any) -> None:
    reply = httpx.get(gateway.url + "/v1/embeddings")
    assert (reply.status_code, reply.json()["error"]["message"]) == (
        404,
        "Unknown request URL: GET /v1/embeddings. The gateway serves /v1/chat/completions,"
        " /v1/responses, /v1/messages, /v1/models and /v1/files.",
    )


def test_the_access_log_names_an_unknown_route_s_path(gateway: Any) -> None:
    unknown = httpx.post(gateway.url + "/v1/v1/chat/completions?key=secret", json={})
    known = httpx.get(gateway.url + "/healthz")
    ids = {unknown.headers["x-request-id"], known.headers["x-request-id"]}
    deadline = time.monotonic() + 5
    lines: list[dict[str, Any]] = []
    while len(lines) < 2 and time.monotonic() < deadline:
        lines = [line for line in gateway.access_log() if line["request_id"] in ids]
        time.sleep(0.02)
    by_route = {line["route"]: line for line in lines}
    assert (by_route["unknown"]["path"], by_route["unknown"]["status"]) == (
        "/v1/v1/chat/completions",
        404,
    )
    assert "path" not in by_route["healthz"]

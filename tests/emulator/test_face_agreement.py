"""The two faces of one product answer alike: Kimi Code's unknown model names (docs/kimi.md
§13.1), the named/required tool_choice with thinking on (§8.4, [3M] HALRO kimi_code.go), the
one request id of a platform Anthropic 400 (§1.1, §14), images on text-only models (§4.1), and
the `prompt_cache_key` switch of the Kimi Code OpenAI face (§5.1, §13.1)."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import openai
import pytest
from openai.types.chat import (
    ChatCompletionNamedToolChoiceParam,
    ChatCompletionToolChoiceOptionParam,
)

from kimi_gateway.emulator.server import EmulatorServer

from .conftest import HI, KIMI_CODE_KEY, PLATFORM_KEY, WEATHER_TOOL
from .test_anthropic_support import BASH_TOOL, CODING, PLATFORM, coding_sdk, platform_sdk, post
from .test_anthropic_support import HI as ANTHROPIC_HI  # HI as the anthropic SDK types it

SPECIFIED = "tool_choice 'specified' is incompatible with thinking enabled"
REQUIRED = "tool_choice 'required' is incompatible with thinking enabled"
PNG = "iVBORw0KGgo="


def _openai(server: EmulatorServer, kimi_code: bool) -> openai.OpenAI:
    if kimi_code:
        return openai.OpenAI(base_url=server.kimi_code_url, api_key=KIMI_CODE_KEY, max_retries=0)
    return openai.OpenAI(base_url=server.platform_url, api_key=PLATFORM_KEY, max_retries=0)


def _openai_status(server: EmulatorServer, **fields: Any) -> tuple[int, Any]:
    """POST to /coding/v1/chat/completions; (status, error message or the reply)."""
    headers = {"authorization": f"Bearer {KIMI_CODE_KEY}"}
    body = {"model": "kimi-for-coding", "messages": HI, **fields}
    response = httpx.post(server.kimi_code_url + "/chat/completions", json=body, headers=headers)
    payload = response.json()
    return response.status_code, payload["error"]["message"] if "error" in payload else payload


def _anthropic_status(server: EmulatorServer, path: str, **fields: Any) -> tuple[int, Any]:
    model = "kimi-for-coding" if path == CODING else "kimi-k2.6"
    response = post(server, path, {"model": model, "max_tokens": 500, "messages": HI, **fields})
    payload = response.json()
    return response.status_code, payload["error"]["message"] if "error" in payload else payload


# --- §13.1 unknown Kimi Code model names ---------------------------------------------------


def test_unknown_kimi_code_model_is_404_on_both_faces_by_default(
    kimi_emulator: EmulatorServer,
) -> None:
    message = "Not found the model kimi-k9 or Permission denied"
    with pytest.raises(openai.NotFoundError) as chat:
        _openai(kimi_emulator, True).chat.completions.create(model="kimi-k9", messages=HI)
    assert chat.value.body == {"type": "resource_not_found_error", "message": message}
    with pytest.raises(anthropic.NotFoundError) as messages:
        coding_sdk(kimi_emulator).messages.create(
            model="kimi-k9", max_tokens=50, messages=ANTHROPIC_HI
        )
    assert messages.value.body == {
        "error": {"type": "not_found_error", "message": message},
        "type": "error",
    }


def test_unknown_kimi_code_model_is_echoed_on_both_faces_when_accepted(
    kimi_emulator_factory: Any,
) -> None:
    """§13.1 [3M] HALRO: 200 with the name echoed back; known names report kimi-for-coding."""
    server = kimi_emulator_factory(kimi_code_unknown_model="accept")
    chat, messages = _openai(server, True).chat.completions, coding_sdk(server).messages
    reported = [
        chat.create(model=name, messages=HI).model for name in ("halro-no-such-model", "k3")
    ]
    streamed = {c.model for c in chat.create(model="zz", messages=HI, stream=True)}
    anthropic_reported = [
        messages.create(model=name, max_tokens=50, messages=ANTHROPIC_HI).model
        for name in ("halro-no-such-model", "k3")
    ]
    assert reported == anthropic_reported == ["halro-no-such-model", "kimi-for-coding"]
    assert streamed == {"zz"}


# --- §8.4 tool_choice with thinking: one rule for both Kimi Code faces ---------------------


def test_kimi_code_refuses_only_the_named_tool_choice_with_thinking_on_both_faces(
    kimi_emulator: EmulatorServer,
) -> None:
    """[3M] HALRO kimi-code-subscription-evidence: named refused, `required` answers 200."""
    named = {"type": "function", "function": {"name": "get_weather"}}
    marker = [{"role": "user", "content": '@@tool:get_weather {"city":"Oslo"}@@'}]
    tools = {"tools": [WEATHER_TOOL], "messages": marker}
    assert _openai_status(kimi_emulator, **tools, tool_choice=named) == (400, SPECIFIED)
    status, required = _openai_status(kimi_emulator, **tools, tool_choice="required")
    assert (status, required["choices"][0]["finish_reason"]) == (200, "tool_calls")
    off = _openai_status(kimi_emulator, **tools, tool_choice=named, reasoning_effort="none")
    assert off[0] == 200
    bash = {"tools": [BASH_TOOL], "messages": HI}
    tool = {"type": "tool", "name": "Bash"}
    assert _anthropic_status(kimi_emulator, CODING, **bash, tool_choice=tool) == (400, SPECIFIED)
    assert _anthropic_status(kimi_emulator, CODING, **bash, tool_choice={"type": "any"})[0] == 200
    disabled = {"type": "disabled"}
    assert _anthropic_status(kimi_emulator, CODING, **bash, tool_choice=tool, thinking=disabled)[
        0
    ] == (200)


def test_platform_keeps_its_own_rule(kimi_emulator: EmulatorServer) -> None:
    """§8.4 [3M] HALRO: k2.6 with thinking refuses both forms; k3 accepts them."""
    chat = _openai(kimi_emulator, False).chat.completions
    named: ChatCompletionNamedToolChoiceParam = {
        "type": "function",
        "function": {"name": "get_weather"},
    }
    choices: list[tuple[ChatCompletionToolChoiceOptionParam, str]] = [
        ("required", REQUIRED),
        (named, SPECIFIED),
    ]
    for choice, message in choices:
        with pytest.raises(openai.BadRequestError) as refused:
            chat.create(model="kimi-k2.6", messages=HI, tools=[WEATHER_TOOL], tool_choice=choice)
        assert refused.value.body == {"type": "invalid_request_error", "message": message}
        k3 = chat.create(model="kimi-k3", messages=HI, tools=[WEATHER_TOOL], tool_choice=choice)
        assert k3.choices[0].finish_reason == "stop"
    tool = {"type": "tool", "name": "Bash"}
    bash = {"tools": [BASH_TOOL]}
    assert _anthropic_status(kimi_emulator, PLATFORM, **bash, tool_choice=tool) == (400, SPECIFIED)
    assert _anthropic_status(kimi_emulator, PLATFORM, **bash, tool_choice={"type": "any"})[0] == 200


# --- §1.1/§14 one request id ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"model": "kimi-k3", "max_tokens": 10, "messages": []}, 400),
        ({"model": "gpt-4o", "max_tokens": 10, "messages": HI}, 404),
        (
            {
                "model": "kimi-k3",
                "max_tokens": 10,
                "messages": [{"role": "user", "content": "@@error:500@@"}],
            },
            500,
        ),
    ],
)
def test_platform_anthropic_error_request_id_is_the_header_id(
    kimi_emulator: EmulatorServer, body: dict[str, Any], status: int
) -> None:
    response = post(kimi_emulator, PLATFORM, body)
    assert response.status_code == status
    assert response.json()["request_id"] == response.headers["msh-request-id"]


def test_request_ids_differ_and_sdk_errors_carry_them(kimi_emulator: EmulatorServer) -> None:
    seen = set()
    for _ in range(3):
        with pytest.raises(anthropic.BadRequestError) as caught:
            platform_sdk(kimi_emulator).messages.create(model="kimi-k3", max_tokens=10, messages=[])
        assert caught.value.body["request_id"] == caught.value.response.headers["msh-request-id"]  # type: ignore[index]
        seen.add(caught.value.body["request_id"])  # type: ignore[index]
    assert len(seen) == 3


# --- §4.1/§11 images on models without image input ------------------------------------------


def _image_message(url: str = f"data:image/png;base64,{PNG}") -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


def test_images_refused_on_text_only_models(kimi_emulator: EmulatorServer) -> None:
    chat = _openai(kimi_emulator, False).chat.completions
    for model in ("moonshot-v1-8k", "kimi-k2.7-code"):
        with pytest.raises(openai.BadRequestError) as refused:
            chat.create(model=model, messages=_image_message())  # type: ignore[arg-type]
        assert refused.value.body == {
            "type": "invalid_request_error",
            "message": f"Invalid request: the model {model} does not support image input",
        }
    for model in ("moonshot-v1-8k-vision-preview", "kimi-k2.6", "kimi-k3"):
        reply = chat.create(model=model, messages=_image_message())  # type: ignore[arg-type]
        assert reply.choices[0].finish_reason == "stop"
    coding = _openai(kimi_emulator, True).chat.completions.create(
        model="kimi-for-coding",
        messages=_image_message(),  # type: ignore[arg-type]
    )
    assert coding.choices[0].finish_reason == "stop"


def test_anthropic_images_refused_on_text_only_models(kimi_emulator: EmulatorServer) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    direct = [{"role": "user", "content": [image, {"type": "text", "text": "what is this?"}]}]
    in_result = [
        {"role": "user", "content": "look"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "Shot", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [image]}],
        },
    ]
    for messages in (direct, in_result):
        body = {"model": "moonshot-v1-8k", "max_tokens": 50, "messages": messages}
        response = post(kimi_emulator, PLATFORM, body)
        assert response.status_code == 400
        assert response.json()["error"] == {
            "type": "invalid_request_error",
            "message": "Invalid request: the model moonshot-v1-8k does not support image input",
        }
        vision = post(kimi_emulator, PLATFORM, {**body, "model": "moonshot-v1-8k-vision-preview"})
        assert vision.status_code == 200


def test_images_on_text_only_models_accepted_when_switched_off(kimi_emulator_factory: Any) -> None:
    server = kimi_emulator_factory(reject_images_without_vision=False)
    reply = _openai(server, False).chat.completions.create(
        model="moonshot-v1-8k",
        messages=_image_message(),  # type: ignore[arg-type]
    )
    assert reply.choices[0].message.content == "Hello! This is the Kimi emulator's default reply."


# --- §5.1/§13.1 prompt_cache_key on Kimi Code ----------------------------------------------


def test_prompt_cache_key_not_required_by_default(kimi_emulator: EmulatorServer) -> None:
    assert _openai_status(kimi_emulator)[0] == 200


def test_prompt_cache_key_required_when_switched(kimi_emulator_factory: Any) -> None:
    server = kimi_emulator_factory(kimi_code_require_prompt_cache_key=True)
    message = "Invalid request: prompt_cache_key is required for Kimi Code Plan"
    chat = _openai(server, True).chat.completions
    for key in (openai.omit, ""):  # absent, then empty
        with pytest.raises(openai.BadRequestError) as refused:
            chat.create(model="kimi-for-coding", messages=HI, prompt_cache_key=key)
        assert refused.value.body == {"type": "invalid_request_error", "message": message}
    keyed = chat.create(model="kimi-for-coding", messages=HI, prompt_cache_key="session-1")
    assert keyed.model == "kimi-for-coding"
    # The Open Platform and the Anthropic face are not affected (§13.1: Moonshot's client uses
    # metadata.user_id there).
    platform = _openai(server, False).chat.completions.create(model="kimi-k2.6", messages=HI)
    assert platform.choices[0].finish_reason == "stop"
    assert _anthropic_status(server, CODING)[0] == 200

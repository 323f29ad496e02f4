from __future__ import annotations

from dataclasses import fields

import pytest

from kimi_gateway.core.model import (
    AnthropicMessagesFields,
    Diagnostic,
    Message,
    OpenAIChatFields,
    OpenAIResponsesFields,
    Request,
    TextPart,
    ToolChoice,
)
from kimi_gateway.dialects import anthropic_messages, openai_chat, openai_responses
from kimi_gateway.upstreams.kimi import (
    PLATFORM_ANTHROPIC,
    PLATFORM_GLOBAL,
    QuirkPolicy,
    build_upstream_request,
    profile_for,
)
from kimi_gateway.upstreams.kimi.quirks_fields import (
    drop_unsupported_params,
    map_openai_identity,
    sent_fields,
)

from .canonical import ctx, request

ANTHROPIC = ctx("kimi-k2.6", "anthropic_messages")
# Every dialect's private fields set at once (a Request no single parser builds).
EVERYTHING = request(
    openai_chat=OpenAIChatFields(partial=True, passthrough={"seed": 1, "logprobs": True}),
    anthropic_messages=AnthropicMessagesFields(
        server_tools=({"type": "web_search_20250305", "name": "web_search"},),
        output_config={"effort": "high", "task_budget": 1},
        top_k=0,
        context_management={"edits": []},
        service_tier="auto",
        container="c-1",
        mcp_servers=(),
        unknown={"vendor_a": 1},
    ),
    openai_responses=OpenAIResponsesFields(
        hosted_tools=({"type": "web_search"},),
        tool_choice={"type": "web_search"},
        reasoning={"summary": "auto"},
        text={"verbosity": "low"},
        store=False,
        include=(),
        passthrough={"truncation": "auto", "safety_identifier": "h"},
    ),
)


def dropped(fixed: Request) -> list[str]:
    return [d.detail.split("'")[1] for d in fixed.diagnostics if d.detail.startswith("'")]


def test_unsupported_openai_params_are_dropped_one_diagnostic_each() -> None:
    passthrough = {"seed": 7, "logit_bias": {"1": 2}, "prediction": {"type": "content"}}
    raw = request(openai_chat=OpenAIChatFields(partial=True, passthrough=passthrough))
    fixed = drop_unsupported_params(raw, ctx())
    assert fixed.openai_chat == OpenAIChatFields(True, {"prediction": {"type": "content"}})
    assert fixed.diagnostics == (
        Diagnostic(
            "dropped_param",
            "'logit_bias' is not accepted by Kimi; not sent",
        ),
        Diagnostic("dropped_param", "'seed' is not accepted by Kimi; not sent"),
    )


def test_anthropic_fields_are_dropped_on_either_wire() -> None:
    own = AnthropicMessagesFields(
        context_management={"edits": []},
        top_k=5,
        output_config={"effort": "high", "task_budget": 1},
    )
    openai = drop_unsupported_params(request(anthropic_messages=own), ctx())
    assert openai.anthropic_messages is None
    assert dropped(openai) == ["context_management", "output_config", "top_k"]
    anthropic = drop_unsupported_params(request(anthropic_messages=own), ANTHROPIC)
    assert anthropic.anthropic_messages == AnthropicMessagesFields(output_config={"effort": "high"})
    assert len(anthropic.diagnostics) == 3


def test_responses_fields_are_dropped_but_safety_identifier_is_the_same_field() -> None:
    own = OpenAIResponsesFields(
        store=False,
        include=("reasoning.encrypted_content",),
        reasoning={"summary": "auto"},
        passthrough={"safety_identifier": "h", "top_logprobs": 2},
    )
    fixed = drop_unsupported_params(request(openai_responses=own), ctx())
    assert (fixed.openai_responses, fixed.openai_chat) == (
        None,
        OpenAIChatFields(passthrough={"safety_identifier": "h"}),
    )
    assert dropped(fixed) == ["include", "reasoning", "store", "top_logprobs"]
    anthropic = drop_unsupported_params(request(openai_responses=own), ANTHROPIC)
    assert (anthropic.openai_responses, anthropic.openai_chat) == (None, None)
    assert dropped(anthropic) == [
        "include",
        "reasoning",
        "safety_identifier",
        "store",
        "top_logprobs",
    ]


def test_chat_fields_and_partial_are_dropped_on_the_anthropic_wire() -> None:
    own = OpenAIChatFields(partial=True, passthrough={"logit_bias": {"1": 2}, "logprobs": True})
    fixed = drop_unsupported_params(request(openai_chat=own), ANTHROPIC)
    assert fixed.openai_chat is None
    assert dropped(fixed) == ["logit_bias", "logprobs", "partial"]


@pytest.mark.parametrize("wire", ["openai_chat", "anthropic_messages"])
def test_every_private_field_is_kept_or_reported(wire: str) -> None:
    """docs/kimi.md §F2.7 for every field of every dialect, including ones added later."""
    kinds = (OpenAIChatFields, AnthropicMessagesFields, OpenAIResponsesFields)
    # legacy_functions shapes the client's reply (function_call), not what goes upstream.
    names = {spec.name for kind in kinds for spec in fields(kind)}
    names -= {"passthrough", "unknown", "legacy_functions"}
    sent = set(sent_fields(EVERYTHING))
    assert sent == names | {"seed", "logprobs", "vendor_a", "truncation", "safety_identifier"}
    fixed = drop_unsupported_params(EVERYTHING, ctx("kimi-k2.6", wire))
    assert set(dropped(fixed)) | set(sent_fields(fixed)) == sent
    assert set(dropped(fixed)).isdisjoint(sent_fields(fixed))


def test_user_becomes_safety_identifier_and_metadata_is_not_sent() -> None:
    raw = request(
        user="u-1", metadata={"user_id": "abc"}, tool_choice=ToolChoice("auto", parallel=True)
    )
    fixed = map_openai_identity(raw, ctx())
    assert (fixed.user, fixed.metadata, fixed.openai_chat) == (
        None,
        {},
        OpenAIChatFields(passthrough={"safety_identifier": "u-1"}),
    )
    assert fixed.tool_choice == ToolChoice("auto")
    assert [d.detail for d in fixed.diagnostics] == [
        "metadata is not accepted by Kimi's chat API; not sent"
    ]


def test_a_sent_safety_identifier_wins_over_user() -> None:
    own = OpenAIChatFields(partial=True, passthrough={"safety_identifier": "h"})
    fixed = map_openai_identity(request(user="u-1", openai_chat=own), ctx())
    assert (fixed.user, fixed.openai_chat) == (None, own)


def test_parallel_false_cannot_be_honoured_and_says_so() -> None:
    fixed = map_openai_identity(request(tool_choice=ToolChoice("auto", parallel=False)), ctx())
    assert fixed.tool_choice == ToolChoice("auto")
    assert [d.code for d in fixed.diagnostics] == ["dropped_param"]


PREFIX = [{"role": "user", "content": "Name a colour"}, {"role": "assistant", "content": "Bl"}]


def test_kimi_partial_mode_reaches_the_openai_face() -> None:
    """§5.3: a Chat client's partial prefix is continued by Kimi."""
    body = {"model": "kimi-k2.6", "messages": [*PREFIX[:1], {**PREFIX[1], "partial": True}]}
    call = build_upstream_request(
        openai_chat.parse_request(body),
        PLATFORM_GLOBAL,
        profile_for("kimi-k2.6"),
        QuirkPolicy(),
    )
    assert call.body["messages"][-1] == {"role": "assistant", "content": "Bl", "partial": True}
    assert "partial" not in call.body


def test_no_client_dialect_s_private_fields_reach_a_kimi_face_unreported() -> None:
    chat = openai_chat.parse_request(
        {
            "model": "kimi-k2.6",
            "messages": PREFIX[:1],
            "logit_bias": {"1": 2},
            "seed": 1,
            "output_config": {"effort": "high"},  # an Anthropic name, unknown to Chat
        }
    )
    anthropic = anthropic_messages.parse_request(
        {"model": "kimi-k2.6", "max_tokens": 9, "messages": PREFIX[:1], "top_k": 5}
    )
    responses = openai_responses.parse_request(
        {"model": "kimi-k2.6", "input": "x", "store": False, "include": ["x"]}
    )
    profile = profile_for("kimi-k2.6")
    for parsed, names in ((chat, {"logit_bias", "seed", "output_config"}), (anthropic, {"top_k"})):
        for surface in (PLATFORM_GLOBAL, PLATFORM_ANTHROPIC):
            call = build_upstream_request(parsed, surface, profile, QuirkPolicy())
            assert names.isdisjoint(call.body)
            assert names <= {d.detail.split("'")[1] for d in call.diagnostics}
    for surface in (PLATFORM_GLOBAL, PLATFORM_ANTHROPIC):
        call = build_upstream_request(responses, surface, profile, QuirkPolicy())
        assert {"store", "include"}.isdisjoint(call.body)
        assert {"store", "include"} <= {d.detail.split("'")[1] for d in call.diagnostics}


def test_a_request_without_private_fields_is_left_alone() -> None:
    raw = Request("kimi-k2.6", (Message("user", (TextPart("hi"),)),))
    assert drop_unsupported_params(raw, ctx()) == raw
    assert drop_unsupported_params(raw, ANTHROPIC) == raw

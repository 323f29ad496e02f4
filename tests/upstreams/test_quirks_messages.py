from __future__ import annotations

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    ImagePart,
    Message,
    OpaquePart,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.upstreams.kimi.quirks_messages import (
    check_images,
    clean_reasoning_details,
    drop_empty_assistant_turns,
    fill_empty_tool_results,
    flatten_opaque_parts,
    omit_empty_text,
    place_dynamic_tools,
)

from .canonical import ctx, request, user

CALL = ToolCallPart("bash:0", "bash", '{"cmd":"ls"}')


def test_empty_text_beside_tool_calls_is_omitted_silently() -> None:
    raw = request("kimi-k2.6", user("go"), Message("assistant", (TextPart(""), CALL)))
    fixed = omit_empty_text(raw, ctx())
    assert fixed.messages[1] == Message("assistant", (CALL,))
    assert fixed.diagnostics == ()


def test_empty_parts_go_from_arrays_and_the_system_prompt() -> None:
    image = ImagePart("base64", "AAAA", "image/png")
    raw = request(
        "kimi-k2.6",
        Message("user", (TextPart(" "), image)),
        system=(TextPart(""), TextPart("be brief")),
    )
    fixed = omit_empty_text(raw, ctx())
    assert fixed.messages == (Message("user", (image,)),)
    assert fixed.system == (TextPart("be brief"),)


def test_a_message_of_only_blank_text_is_left_for_kimi() -> None:
    raw = request("kimi-k2.6", Message("user", (TextPart(""),)))
    assert omit_empty_text(raw, ctx()) == raw


def test_empty_assistant_turns_are_dropped_with_a_diagnostic() -> None:
    raw = request(
        "kimi-k2.6",
        user("a"),
        Message("assistant", (ThinkingPart("hm"), TextPart(""))),
        user("b"),
    )
    fixed = drop_empty_assistant_turns(raw, ctx())
    assert fixed.messages == (user("a"), user("b"))
    assert fixed.diagnostics == (
        Diagnostic(
            "dropped_empty_message",
            "messages[1]: empty assistant message(s) dropped (Kimi rejects them)",
        ),
    )


def test_empty_tool_results_get_the_stated_placeholder() -> None:
    results = Message(
        "user",
        (
            ToolResultPart("a:0", ()),
            ToolResultPart("b:1", (TextPart(""),)),
            ToolResultPart("c:2", (TextPart("ok"),)),
        ),
    )
    fixed = fill_empty_tool_results(request("kimi-k2.6", results), ctx())
    assert fixed.messages[0].parts == (
        ToolResultPart("a:0", (TextPart("(empty)"),)),
        ToolResultPart("b:1", (TextPart("(empty)"),)),
        ToolResultPart("c:2", (TextPart("ok"),)),
    )
    assert fixed.diagnostics == ()
    custom = fill_empty_tool_results(request("kimi-k2.6", results), ctx(empty_tool_result_text="-"))
    assert custom.messages[0].parts[0] == ToolResultPart("a:0", (TextPart("-"),))


def test_unknown_blocks_are_flattened_to_text() -> None:
    raw = request(
        "kimi-k2.6",
        Message(
            "user",
            (
                OpaquePart("tool_reference", {"type": "tool_reference", "tool_name": "Bash"}),
                OpaquePart("document", {"type": "document", "source": {"type": "text"}}),
            ),
        ),
    )
    fixed = flatten_opaque_parts(raw, ctx())
    assert fixed.messages[0].parts == (
        TextPart("Bash"),
        TextPart('[document] {"source":{"type":"text"}}'),
    )
    assert fixed.diagnostics == (
        Diagnostic(
            "flattened_block",
            "messages[0].content[0] (tool_reference), messages[0].content[1] (document): "
            "block(s) Kimi does not accept sent as text",
        ),
    )


def test_video_parts_stay_on_the_openai_wire_of_video_models() -> None:
    video = OpaquePart("video_url", {"type": "video_url", "video_url": {"url": "ms://abc"}})
    raw = request("kimi-k2.6", Message("user", (video, TextPart("what happens?"))))
    assert flatten_opaque_parts(raw, ctx("kimi-k2.6")) == raw
    flattened = flatten_opaque_parts(raw, ctx("kimi-k2.7-code"))
    assert [d.code for d in flattened.diagnostics] == ["flattened_block"]


def test_http_image_urls_are_refused_naming_the_field() -> None:
    image = ImagePart("url", "https://example.com/cat.png")
    raw = request("kimi-k2.6", user("look"), Message("user", (TextPart("this"), image)))
    with pytest.raises(TranslationError) as caught:
        check_images(raw, ctx())
    assert caught.value.param == "messages[1].content[1].image_url.url"
    assert caught.value.message.startswith("Kimi does not accept image URLs")


def test_http_image_urls_inside_tool_results_are_refused_too() -> None:
    image = ImagePart("url", "http://example.com/x.png")
    raw = request("kimi-k2.6", Message("user", (ToolResultPart("a:0", (image,)),)))
    with pytest.raises(TranslationError) as caught:
        check_images(raw, ctx())
    assert caught.value.param == "messages[0].content[0].content[0].image_url.url"


def test_data_and_file_images_pass() -> None:
    ok = request(
        "kimi-k2.6",
        Message("user", (ImagePart("base64", "AAAA", "image/png"), ImagePart("file", "abc"))),
    )
    assert check_images(ok, ctx()) == ok


def test_models_without_image_input_refuse_images() -> None:
    raw = request("moonshot-v1-8k", Message("user", (ImagePart("base64", "AAAA"),)))
    with pytest.raises(TranslationError) as caught:
        check_images(raw, ctx("moonshot-v1-8k"))
    assert caught.value.param == "messages[0].content[0]"


def test_reasoning_details_lose_their_streaming_index() -> None:
    details = [
        {"index": 0, "type": "summary", "summary": "Thinking "},
        {"index": 0, "type": "summary", "summary": "hard"},
        {"index": 1, "type": "encrypted", "encrypted": "e1"},
    ]
    thinking = ThinkingPart("Thinking hard", provider_data={"reasoning_details": details})
    raw = request("k3", user("q"), Message("assistant", (thinking, TextPart("a"))))
    fixed = clean_reasoning_details(raw, ctx())
    assert fixed.messages[1].parts[0] == ThinkingPart(
        "Thinking hard",
        provider_data={
            "reasoning_details": [
                {"type": "summary", "summary": "Thinking hard"},
                {"type": "encrypted", "encrypted": "e1"},
            ]
        },
    )
    assert details[0] == {"index": 0, "type": "summary", "summary": "Thinking "}  # not mutated


ENUM_ONLY = {"type": "object", "properties": {"unit": {"enum": ["c", "f"]}}}
DYNAMIC = Message("system", (), tools=(Tool("lookup", parameters=ENUM_ONLY), Tool("bash")))


def test_dynamic_tools_stay_in_place_for_k3_with_their_schemas_in_mfjs() -> None:
    raw = request("kimi-k3", user("hi"), DYNAMIC, user("go"))
    fixed = place_dynamic_tools(raw, ctx("kimi-k3"))
    [lookup, bash] = fixed.messages[1].tools
    assert lookup.parameters == {
        "type": "object",
        "properties": {"unit": {"enum": ["c", "f"], "type": "string"}},
    }
    assert bash == Tool("bash")
    assert (fixed.tools, len(fixed.messages)) == ((), 3)
    assert fixed.diagnostics == ()  # a filled-in type accepts the same values


@pytest.mark.parametrize(
    ("model", "dialect"),
    [("kimi-k2.6", "openai_chat"), ("kimi-k3", "anthropic_messages"), ("k3", "kimi_code")],
)
def test_dynamic_tools_are_declared_up_front_where_they_are_not_taken(
    model: str, dialect: str
) -> None:
    with_text = Message("system", (TextPart("also"),), tools=(Tool("bash"), Tool("grep")))
    raw = request(model, user("hi"), DYNAMIC, with_text, tools=(Tool("bash"),))
    fixed = place_dynamic_tools(raw, ctx(model, dialect))
    assert [t.name for t in fixed.tools] == ["bash", "lookup", "grep"]
    assert fixed.messages == (user("hi"), Message("system", (TextPart("also"),)))
    assert [d.code for d in fixed.diagnostics] == ["hoisted_dynamic_tools"]

from __future__ import annotations

import pytest

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import (
    Diagnostic,
    Message,
    Request,
    TextPart,
    ThinkingConfig,
    Tool,
    ToolResultPart,
)
from kimi_gateway.upstreams.kimi import (
    KIMI_CODE_ANTHROPIC,
    KIMI_CODE_OPENAI,
    PLATFORM_ANTHROPIC,
    PLATFORM_CN,
    PLATFORM_GLOBAL,
    SURFACES,
    KimiSurface,
    QuirkPolicy,
    build_upstream_request,
    diagnostics_header,
    profile_for,
)

from .canonical import request, tool_turn, user


def test_surfaces_are_the_documented_ones() -> None:
    assert {name: s.url for name, s in SURFACES.items()} == {
        "platform": "https://api.moonshot.ai/v1/chat/completions",
        "platform-cn": "https://api.moonshot.cn/v1/chat/completions",
        "platform-anthropic": "https://api.moonshot.ai/anthropic/v1/messages",
        "platform-cn-anthropic": "https://api.moonshot.cn/anthropic/v1/messages",
        "kimi-code-anthropic": "https://api.kimi.com/coding/v1/messages",
        "kimi-code-openai": "https://api.kimi.com/coding/v1/chat/completions",
    }
    assert PLATFORM_CN.dialect == PLATFORM_GLOBAL.dialect == "openai_chat"
    assert (KIMI_CODE_ANTHROPIC.auth_header_name, KIMI_CODE_ANTHROPIC.auth_header_value("k")) == (
        "x-api-key",
        "k",
    )
    assert (PLATFORM_ANTHROPIC.auth_header_name, PLATFORM_ANTHROPIC.auth_header_value("k")) == (
        "authorization",
        "Bearer k",
    )


@pytest.mark.parametrize(
    ("surface", "base", "url"),
    [
        (PLATFORM_GLOBAL, "http://127.0.0.1:9/v1/", "http://127.0.0.1:9/v1/chat/completions"),
        (KIMI_CODE_ANTHROPIC, "http://h/coding/v1", "http://h/coding/v1/messages"),
        (KIMI_CODE_ANTHROPIC, "http://h/coding/", "http://h/coding/v1/messages"),
        (PLATFORM_ANTHROPIC, "http://h/anthropic", "http://h/anthropic/v1/messages"),
    ],
)
def test_base_url_override_never_doubles_v1(surface: KimiSurface, base: str, url: str) -> None:
    assert surface.with_base_url(base).url == url


def test_openai_call_for_the_platform() -> None:
    raw = request(
        "kimi-k2.6", user("hi"), temperature=0.2, max_tokens=50, stream=True, include_usage=True
    )
    call = build_upstream_request(raw, PLATFORM_GLOBAL, profile_for("kimi-k2.6"), QuirkPolicy())
    assert (call.method, call.url) == ("POST", "https://api.moonshot.ai/v1/chat/completions")
    assert call.headers == {"content-type": "application/json", "accept": "text/event-stream"}
    assert call.headers_with_key("sk-1") == {**call.headers, "authorization": "Bearer sk-1"}
    assert call.body == {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": "hi"}],
        "max_completion_tokens": 50,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert call.diagnostics == (
        Diagnostic("omitted_param", "temperature=0.2 not sent: kimi-k2.6 only accepts 1 here"),
    )


def test_anthropic_call_for_kimi_code() -> None:
    raw = request(
        "kimi-for-coding",
        user("hi"),
        thinking=ThinkingConfig("adaptive", effort="high"),
        tools=(Tool("Bash", parameters={"$schema": "x", "type": "object"}),),
        metadata={"user_id": "u1"},
    )
    profile = profile_for("kimi-for-coding", product="kimi_code")
    call = build_upstream_request(raw, KIMI_CODE_ANTHROPIC, profile, QuirkPolicy())
    assert call.headers == {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    assert call.headers_with_key("sk-kimi-1")["x-api-key"] == "sk-kimi-1"
    assert call.body == {
        "model": "kimi-for-coding",
        "max_tokens": 32768,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
        "metadata": {"user_id": "u1"},
    }
    assert call.diagnostics == ()


def test_openai_call_for_kimi_code_carries_a_prompt_cache_key() -> None:
    raw = request("kimi-for-coding", user("hi"), metadata={"user_id": "sess-1"})
    profile = profile_for("kimi-for-coding", product="kimi_code")
    call = build_upstream_request(raw, KIMI_CODE_OPENAI, profile, QuirkPolicy())
    assert call.body["prompt_cache_key"] == "sess-1"
    assert "metadata" not in call.body


def test_strict_mode_refuses_diagnostics_the_client_dialect_recorded() -> None:
    raw = request(diagnostics=(Diagnostic("dropped_param", "seed dropped"),))
    with pytest.raises(TranslationError) as caught:
        build_upstream_request(
            raw, PLATFORM_GLOBAL, profile_for("kimi-k2.6"), QuirkPolicy(strict=True)
        )
    assert caught.value.message == (
        "strict mode: the request could not be translated as sent (dropped_param): seed dropped"
    )


def test_diagnostics_header_is_a_compact_ascii_list() -> None:
    diags = [
        Diagnostic("omitted_param", 'temperature=0.2 not sent: "fixed" (§4.2)'),
        Diagnostic("omitted_param", 'temperature=0.2 not sent: "fixed" (§4.2)'),
        Diagnostic("dropped_param", "'seed'"),
    ]
    assert diagnostics_header(diags) == (
        'omitted_param;detail="temperature=0.2 not sent: \\"fixed\\" (?4.2)", '
        "dropped_param;detail=\"'seed'\""
    )
    assert diagnostics_header([]) == ""


def test_diagnostics_header_stays_under_its_budget() -> None:
    diags = [Diagnostic("dropped_param", f"{i} " + "x" * 300) for i in range(40)]
    value = diagnostics_header(diags)
    assert len(value) < 4000
    assert value.endswith(f"more;count={40 - value.count('dropped_param')}")
    assert value.isascii()


def _error_tool_result() -> Request:
    result = ToolResultPart("get_weather:0", (TextPart("boom"),), is_error=True)
    return request(
        "kimi-k2.6", *tool_turn("get_weather:0", reasoning="r"), Message("user", (result,))
    )


def test_openai_wire_losses_are_reported() -> None:
    call = build_upstream_request(
        _error_tool_result(), PLATFORM_GLOBAL, profile_for("kimi-k2.6"), QuirkPolicy()
    )
    assert [d.code for d in call.diagnostics] == ["dropped_is_error"]


def test_openai_wire_losses_are_refused_in_strict_mode() -> None:
    with pytest.raises(TranslationError) as caught:
        build_upstream_request(
            _error_tool_result(),
            PLATFORM_GLOBAL,
            profile_for("kimi-k2.6"),
            QuirkPolicy(strict=True),
        )
    assert caught.value.param == "dropped_is_error"


def test_anthropic_wire_keeps_is_error_without_a_diagnostic() -> None:
    call = build_upstream_request(
        _error_tool_result(), PLATFORM_ANTHROPIC, profile_for("kimi-k2.6"), QuirkPolicy()
    )
    assert call.diagnostics == ()

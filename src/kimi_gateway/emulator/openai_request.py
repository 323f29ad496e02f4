"""Validate an OpenAI-dialect chat request the way Kimi does and build its TurnInput.

Shared by the Open Platform face (`/v1/chat/completions`) and Kimi Code's OpenAI face
(`/coding/v1/chat/completions`); `kimi_code=True` switches in Kimi Code's extra rules (§13):
its model names, its token-limit wording, duplicated function names, the optional
`prompt_cache_key` requirement. Model lookup and the image rule are intake.py's, shared with
the Anthropic faces. The order of the checks
follows the request: model, legacy fields, thinking and sampling, tools, messages, context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kimi_gateway.emulator import intake, mfjs, rules
from kimi_gateway.emulator.catalog import ModelProfile
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.errors import invalid_request
from kimi_gateway.emulator.openai_messages import MessageRules, neutral_messages
from kimi_gateway.emulator.script import TurnInput, prompt_tokens_of


@dataclass(frozen=True)
class ChatRequest:
    turn: TurnInput
    profile: ModelProfile
    stream: bool
    include_usage: bool
    n: int
    reported_model: str  # the `model` the response carries


def _find_profile(model: Any, config: EmulatorConfig, kimi_code: bool) -> tuple[ModelProfile, str]:
    if not isinstance(model, str) or not model:
        raise invalid_request("Invalid request: model is required")  # invented
    return intake.resolve_model(model, config, kimi_code=kimi_code)


def _tool_names(tools: Any, config: EmulatorConfig, kimi_code: bool) -> tuple[str, ...]:
    """Validate `tools` (count, names, MFJS schemas, duplicates) and return their names."""
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise invalid_request("Invalid request: tools must be an array")  # invented
    rules.check_tool_count(tools)
    names: list[str] = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            raise invalid_request("Invalid request: tools.function is required")  # invented
        name = function.get("name")
        if tool.get("type") == "builtin_function":
            names.append(str(name))  # §8.5: `$web_search` and friends skip the name rules
            continue
        mfjs.validate_tool_name(name)
        mfjs.validate_parameters(function.get("parameters"), config.reject_type_beside_anyof_ref)
        if kimi_code:
            rules.check_new_tool_name(str(name), names)
        names.append(str(name))
    return tuple(names)


def _reject_legacy(body: dict[str, Any]) -> None:
    for field in ("functions", "function_call"):
        if field in body:
            # §5.2 [O] DOCS-OLD migration page: not supported; the message is invented.
            raise invalid_request(
                f"Invalid request: {field} is not supported, please use tools instead"
            )


def _check_prompt_cache_key(body: dict[str, Any], config: EmulatorConfig) -> None:
    """§5.1/§13.1 [O] OAS: "Required for Kimi Code Plan" (switch, see EmulatorConfig)."""
    key = body.get("prompt_cache_key")
    if config.kimi_code_require_prompt_cache_key and (not isinstance(key, str) or not key):
        # Invented text in Kimi's `Invalid request: …` form; no source shows the refusal.
        raise invalid_request("Invalid request: prompt_cache_key is required for Kimi Code Plan")


def _stream_flags(body: dict[str, Any]) -> tuple[bool, bool]:
    stream = body.get("stream") is True
    options = body.get("stream_options")
    include = stream and isinstance(options, dict) and options.get("include_usage") is True
    return stream, include


def parse_chat_request(
    body: Any, config: EmulatorConfig, *, kimi_code: bool, path: str
) -> ChatRequest:
    """Every Kimi rule for one request, in order; raises EmulatorError on the first break."""
    if not isinstance(body, dict):
        raise invalid_request("Invalid request: the body must be a JSON object")  # invented
    profile, reported = _find_profile(body.get("model"), config, kimi_code)
    _reject_legacy(body)
    if kimi_code:
        _check_prompt_cache_key(body, config)
    family = rules.RULES[profile.family]
    thinking = rules.resolve_thinking(family, body)
    rules.check_sampling(family, body, thinking)
    rules.check_stop(body.get("stop"))
    max_tokens = rules.check_max_tokens(body)
    offered = _tool_names(body.get("tools"), config, kimi_code)
    rules.check_response_format(body.get("response_format"), config.reject_type_beside_anyof_ref)
    form = rules.tool_choice_form(body.get("tool_choice"))
    rules.check_tool_choice(
        family, profile.id, form, thinking, config.tool_choice_thinking_rejected
    )
    message_rules = MessageRules(thinking, config.reject_http_image_urls, kimi_code)
    messages, dynamic = neutral_messages(body.get("messages"), message_rules)
    intake.check_image_input(profile, messages, config)
    turn = TurnInput(
        model=body["model"],
        messages=messages,
        # tool_choice "none": the model may not call, so no marker can produce a call.
        offered_tools=() if body.get("tool_choice") == "none" else offered + dynamic,
        thinking=thinking,
        max_tokens=max_tokens,
        path=path,
    )
    rules.check_context(prompt_tokens_of(turn), max_tokens, profile.context_length, kimi_code)
    stream, include_usage = _stream_flags(body)
    n = body.get("n") if isinstance(body.get("n"), int) else 1
    return ChatRequest(turn, profile, stream, include_usage, n or 1, reported)

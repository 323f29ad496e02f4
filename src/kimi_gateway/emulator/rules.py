"""Kimi's per-model request rules: a table of family rules plus small validators.

The table (`RULES`) is data, keyed by catalog.ModelProfile.family; the validators read it and
raise `EmulatorError` 400 with Kimi's messages (docs/kimi.md §2.3, §4.2, §8.4). Messages the
sources do not quote are marked "invented" and follow the style of the quoted ones. The
validators work on plain request values, so every face can use them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from kimi_gateway.emulator import mfjs
from kimi_gateway.emulator.errors import invalid_request


@dataclass(frozen=True)
class FamilyRules:
    """How one model family treats sampling and thinking (§4.2 [O] OAS unless noted)."""

    thinking: Literal["never", "always", "switchable"]
    # Accepted `thinking.type` values; () means the field is ignored.
    thinking_types: tuple[str, ...] = ()
    # Accepted `thinking.keep` values (None = null/absent); None means `keep` is ignored.
    keep_values: tuple[str | None, ...] | None = None
    # k2.5/k2.6/k2.7-code: temperature 1.0 thinking / 0.6 not, top_p 0.95, n 1, penalties 0.
    fixed_sampling: bool = False
    temperature_default: float = 1.0
    # Accepted `reasoning_effort` values; () means the field is ignored.
    reasoning_efforts: tuple[str, ...] = ()
    # A `reasoning_effort` value that turns thinking off (§4.2 [3M] HALRO on Kimi Code).
    effort_off: str | None = None
    # The tool_choice forms ("required", "specified" = a named function) refused while thinking
    # is on. None: the platform rule, both forms refused on the models listed in
    # EmulatorConfig.tool_choice_thinking_rejected (§8.4/§17.1 [?]).
    tool_choice_refused_with_thinking: tuple[str, ...] | None = None


_SWITCH = ("enabled", "disabled")

RULES: dict[str, FamilyRules] = {
    "moonshot-v1": FamilyRules("never", temperature_default=0.0),
    "kimi-k2": FamilyRules("never", temperature_default=0.6),
    "kimi-k2-thinking": FamilyRules("always", temperature_default=1.0),
    "kimi-k2.5": FamilyRules("switchable", _SWITCH, fixed_sampling=True),
    "kimi-k2.6": FamilyRules("switchable", _SWITCH, ("all", None), fixed_sampling=True),
    "kimi-k2.7-code": FamilyRules("always", ("enabled",), ("all", None), fixed_sampling=True),
    # §4.2: k3 thinking is always on per OAS, but HALRO [3M] found `disabled` accepted.
    "kimi-k3": FamilyRules(
        "switchable", _SWITCH, ("all", None), reasoning_efforts=("low", "high", "max")
    ),
    # Kimi Code, both faces: [3M] HALRO compatibility/kimi_code.go and
    # kimi-code-subscription-evidence (2026-09-22) measured a named tool_choice with thinking on
    # refused ("tool_choice 'specified' is incompatible with thinking enabled") and `required`
    # answered 200 with a tool call.
    "kimi-code": FamilyRules(
        "switchable",
        _SWITCH,
        reasoning_efforts=("none", "low", "medium", "high", "max"),
        effort_off="none",
        tool_choice_refused_with_thinking=("specified",),
    ),
}

MAX_STOP_ENTRIES = 5  # §5.1 [O], message §2.3 [3M] HALRO
MAX_STOP_BYTES = 32
MAX_TOOLS = 128  # §5.1 older docs, §13 Kimi Code
# [3M] MoonshotAI/Kimi-K2 #90: Claude Code on kimi-for-coding got 400 invalid_request_error
# "a max of 128 tools can be supported" (Anthropic face). Every face uses this measured text;
# no other face's own wording is published.
TOO_MANY_TOOLS_MESSAGE = f"a max of {MAX_TOOLS} tools can be supported"
NEAR_ZERO_TEMPERATURE = 0.01  # §4.2 "very close to 0"; the exact threshold is unpublished


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _fmt(value: float) -> str:
    return f"{value:g}"


def resolve_thinking(family: FamilyRules, body: dict[str, Any]) -> bool:
    """Validate `thinking` / `reasoning_effort` against the family and say if thinking is on."""
    thinking = body.get("thinking")
    on = family.thinking != "never"
    if family.thinking_types and thinking is not None:
        if not isinstance(thinking, dict):
            raise invalid_request("invalid thinking: must be an object")  # invented
        kind = thinking.get("type", "enabled")
        if kind not in family.thinking_types:
            if len(family.thinking_types) == 1:
                # §2.3 [3M] HALRO (k2.7-code, type=disabled).
                only = family.thinking_types[0]
                raise invalid_request(
                    f"invalid thinking: only type={only} is allowed for this model"
                )
            allowed = ", ".join(family.thinking_types)
            raise invalid_request(f"invalid thinking: type must be one of {allowed}")  # invented
        if family.keep_values is not None and thinking.get("keep") not in family.keep_values:
            # §4.2 [O] OAS: other keep values "give an error"; the text is invented.
            raise invalid_request("invalid thinking: only keep=all is allowed for this model")
        on = kind == "enabled"
    effort = body.get("reasoning_effort")
    if family.reasoning_efforts and effort is not None:
        if effort not in family.reasoning_efforts:
            allowed = ", ".join(family.reasoning_efforts)
            raise invalid_request(f"invalid reasoning_effort: must be one of {allowed}")  # invented
        if effort == family.effort_off:
            on = False
    return on


def _check_fixed(name: str, value: Any, expected: float) -> None:
    given = _num(value)
    if value is not None and (given is None or not math.isclose(given, expected, abs_tol=1e-9)):
        # §2.3 [3M] HALRO: "invalid temperature: only 1 is allowed for this model"; the top_p,
        # n and penalty texts follow the same pattern (§2.3 "only 0.95 is allowed"-style).
        raise invalid_request(f"invalid {name}: only {_fmt(expected)} is allowed for this model")


def check_sampling(family: FamilyRules, body: dict[str, Any], thinking: bool) -> None:
    """Fixed sampling (k2.5/k2.6/k2.7-code), temperature range, n with temperature ≈ 0."""
    if family.fixed_sampling:
        # §4.2 [O] OAS: 1.0 with thinking, 0.6 without; a wrong value is a 400, omitting is OK.
        _check_fixed("temperature", body.get("temperature"), 1.0 if thinking else 0.6)
        _check_fixed("top_p", body.get("top_p"), 0.95)
        _check_fixed("n", body.get("n"), 1)
        _check_fixed("presence_penalty", body.get("presence_penalty"), 0)
        _check_fixed("frequency_penalty", body.get("frequency_penalty"), 0)
        return
    temperature = _num(body.get("temperature"))
    if temperature is not None and not 0.0 <= temperature <= 1.0:
        # §4.2 [O] range [0,1]; the rejection text is invented.
        raise invalid_request(f"invalid temperature: {_fmt(temperature)}, must be in [0, 1]")
    _check_range("top_p", body.get("top_p"), 0.0, 1.0)  # §4.2 [O] [0,1]
    _check_range("presence_penalty", body.get("presence_penalty"), -2.0, 2.0)  # §4.2 [O] [-2,2]
    _check_range("frequency_penalty", body.get("frequency_penalty"), -2.0, 2.0)
    n = body.get("n")
    if n is None:
        return
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 5:
        raise invalid_request("invalid n: must be an integer in [1, 5]")  # invented; §4.2 1-5
    effective = family.temperature_default if temperature is None else temperature
    if n > 1 and effective < NEAR_ZERO_TEMPERATURE:
        # §4.2 [O] DOCS-OLD/CB: "when temperature is very close to 0 only 1 result can be
        # returned"; the exact error text is not published.
        raise invalid_request(
            "invalid n: when temperature is very close to 0 only 1 result can be returned"
        )


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    """A ranged sampling value (§4.2 [O] OAS ranges); the rejection text is invented, in the
    style of the temperature one."""
    if value is None:
        return
    given = _num(value)
    if given is None or not low <= given <= high:
        shown = _fmt(given) if given is not None else repr(value)
        raise invalid_request(f"invalid {name}: {shown}, must be in [{_fmt(low)}, {_fmt(high)}]")


RESPONSE_FORMATS = ("text", "json_object", "json_schema")  # §5.1 [O] OAS


def check_response_format(value: Any, strict_combinators: bool) -> None:
    """§5.1 [O] OAS: ``{"type": "text" | "json_object"}`` or ``{"type": "json_schema",
    "json_schema": {"name", "strict" (default true), "schema"}}``; with strict on the schema
    must be MFJS (§8.6). The rejection texts are invented (none is published)."""
    if value is None:
        return
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in RESPONSE_FORMATS:
        allowed = ", ".join(RESPONSE_FORMATS)
        raise invalid_request(f"Invalid request: response_format.type must be one of {allowed}")
    if kind != "json_schema":
        return
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise invalid_request("Invalid request: response_format.json_schema is required")
    # No source says a schema is required (OpenAI's is optional): a missing one is not checked.
    if "schema" in spec and spec.get("strict", True) is not False:
        mfjs.validate_response_schema(spec["schema"], strict_combinators)


def check_stop(stop: Any) -> None:
    """§5.1: at most 5 entries of at most 32 bytes; texts §2.3 [3M] HALRO."""
    if stop is None:
        return
    entries = [stop] if isinstance(stop, str) else stop
    if not isinstance(entries, list):
        raise invalid_request("invalid stop: must be a string or an array of strings")  # invented
    if len(entries) > MAX_STOP_ENTRIES:
        raise invalid_request(
            "stop array too long. Expected an array with maximum length "
            f"{MAX_STOP_ENTRIES}, but got {len(entries)}"
        )
    for entry in entries:
        if not isinstance(entry, str):
            raise invalid_request("invalid stop: must be a string or an array of strings")
        if len(entry.encode()) > MAX_STOP_BYTES:
            raise invalid_request(f"stop sequence must not be longer than {MAX_STOP_BYTES}")


def tool_choice_form(tool_choice: Any) -> str | None:
    """The OpenAI `tool_choice` as a form the rules know: "required", "specified" or None."""
    if tool_choice is None or tool_choice in ("auto", "none"):
        return None
    if tool_choice == "required":
        return "required"
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "function":
        return "specified"
    raise invalid_request(f"invalid tool_choice: {tool_choice}")  # invented


def check_tool_choice(
    family: FamilyRules,
    model: str,
    form: str | None,
    thinking: bool,
    rejected_models: tuple[str, ...],
) -> None:
    """§8.4: a forced tool_choice form with thinking on, refused per the family's rule."""
    if form is None or not thinking:
        return
    refused = family.tool_choice_refused_with_thinking
    if refused is None:
        refused = ("required", "specified") if model in rejected_models else ()
    if form in refused:
        # §2.3 [3M] HALRO (k2.6 with thinking, both forms; Kimi Code, the named form).
        raise invalid_request(f"tool_choice '{form}' is incompatible with thinking enabled")


def check_tool_count(tools: list[Any]) -> None:
    """§5.1 older docs, §13: at most 128 tools."""
    if len(tools) > MAX_TOOLS:
        raise invalid_request(TOO_MANY_TOOLS_MESSAGE)


def check_new_tool_name(name: str, earlier: list[str]) -> None:
    """§2.3/§13.4 [O] KCDOCS: a function name declared twice."""
    if name in earlier:
        raise invalid_request(f"function name {name} is duplicated")


def check_context(prompt: int, max_tokens: int | None, context: int, kimi_code: bool) -> None:
    """§2.2: the prompt alone, then prompt + max_tokens, against the context window."""
    if prompt > context:
        raise invalid_request("Input token length too long")
    if max_tokens is not None and prompt + max_tokens > context:
        if kimi_code:
            # §2.2/§13.4 [O] KCDOCS: no space before the colon on Kimi Code.
            raise invalid_request(f"Your request exceeded model token limit: {context}")
        raise invalid_request(f"Your request exceeded model token limit : {context}")


def check_max_tokens(body: dict[str, Any]) -> int | None:
    """`max_completion_tokens` (preferred) or the deprecated `max_tokens`; the same (§5.1)."""
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise invalid_request("invalid max_tokens: must be a positive integer")  # invented
    return value

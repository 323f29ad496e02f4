"""The canonical request/response model every dialect translates to and from.

Frozen dataclasses, no I/O, no wire names. A dialect parser builds these from a wire dict; a
renderer builds a wire dict from them. Anything a dialect cannot express travels in a named field
(``provider_data``; a request's per-dialect fields below) or is reported as a :class:`Diagnostic`
— never dropped silently.

A request field that only one wire dialect has (Anthropic ``top_k``, Responses ``store``, Chat
``logit_bias`` …) lives in that dialect's own typed field of :class:`Request` —
``openai_chat``, ``anthropic_messages``, ``openai_responses``, named like :data:`DialectName` —
which only that dialect's parser fills and only its renderer reads, so one dialect's private
fields can never reach another's wire body. The Kimi quirk layer reports each one it does not
forward (upstreams/kimi/quirks_fields.py).

What does not belong here: per-model Kimi rules (upstreams/kimi/profiles.py), fix-ups
(upstreams/kimi/quirks.py), stream events (core/events.py), usage (core/usage.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, Literal, TypeAlias

from kimi_gateway.core.records import record
from kimi_gateway.core.usage import Usage

DialectName = Literal["openai_chat", "anthropic_messages", "openai_responses"]
"""The one name of a wire dialect: the package under ``dialects/`` that speaks it. A client
speaks one (the route it called); an upstream speaks one (its surface)."""

Role = Literal["system", "user", "assistant"]
"""Tool results are parts of a ``user`` message (Anthropic's model); OpenAI ``tool`` messages
parse into such parts and render back out of them."""

StopReason = Literal[
    "end_turn", "max_tokens", "tool_use", "stop_sequence", "content_filter", "refusal"
]

JSON: TypeAlias = Any
"""A value decoded from JSON (dict, list, str, int, float, bool, None)."""


@record
class Diagnostic:
    """A record that a translation dropped or changed something (issue 3 §4: never silent)."""

    code: str  # stable, machine-readable, e.g. "dropped_param", "flattened_block"
    detail: str  # human-readable, names the field


@record
class TextPart:
    text: str
    cache: bool = False  # a cache breakpoint (Anthropic cache_control) after this part


@record
class ImagePart:
    source: Literal["base64", "url", "file"]  # "file" is Kimi's ms://<file_id> (docs/kimi.md §9)
    data: str  # base64 payload, URL, or file id (without ms://)
    media_type: str | None = None
    detail: str | None = None
    cache: bool = False


@record
class ThinkingPart:
    text: str
    signature: str | None = None  # Anthropic signature; replayed byte-exact, never invented
    redacted: bool = False  # Anthropic redacted_thinking: ``provider_data["data"]`` holds it
    provider_data: Mapping[str, JSON] | None = None  # e.g. Kimi Code reasoning_details (§7.2)


@record
class ToolCallPart:
    id: str
    name: str
    arguments: str  # JSON text as received: Kimi built-ins echo it verbatim (docs/kimi.md §8.5)
    kind: Literal["function", "builtin_function"] = "function"


@record
class ToolResultPart:
    tool_call_id: str
    content: tuple[TextPart | ImagePart, ...]
    is_error: bool = False
    name: str | None = None  # OpenAI tool message ``name`` (Kimi built-ins echo it, §8.5)
    cache: bool = False


@record
class OpaquePart:
    """A block this model does not know (e.g. Claude Code's ``tool_reference``), kept verbatim
    so the same dialect can pass it through; other dialects flatten or drop it with a
    diagnostic."""

    type: str
    data: Mapping[str, JSON]


Part: TypeAlias = TextPart | ImagePart | ThinkingPart | ToolCallPart | ToolResultPart | OpaquePart


@record
class Message:
    role: Role
    parts: tuple[Part, ...]
    name: str | None = None
    # A system message's tools, offered from its place in the conversation on: Kimi K3's
    # dynamic tools (a system message with ``tools`` and no content, docs/kimi.md §5.1).
    tools: tuple[Tool, ...] = ()
    # What pure functions derived from this message, kept with it (see :func:`derived`); not
    # part of its value: never compared, hashed, printed or copied by ``replace``.
    _derived: dict[Any, Any] | None = field(
        default=None, init=False, compare=False, repr=False, hash=False
    )


def derived(message: Message | Tool) -> dict[Any, Any]:
    """A place to keep what a pure function of ``message`` computed, so that it is computed
    once per message object (issue 15 item 3). The server's message memo hands back the same
    Message for a message an agent resends unchanged, so on a long conversation each turn finds
    its history's facts here (the quirk layer's checks, the prompt estimate, the render) and
    does work for the new messages only. Keys name their function and every input besides the
    message (a policy's text, say). A frozen value's cache, like ``functools.cached_property``:
    the message itself never changes, and two threads computing one entry write equal values.
    """
    facts = message._derived
    if facts is None:
        facts = {}
        object.__setattr__(message, "_derived", facts)
    return facts  # a Tool's likewise: the parse memo hands back the same tools each turn


@record
class Tool:
    name: str
    description: str | None = None
    parameters: Mapping[str, JSON] | None = None  # JSON Schema of the arguments
    kind: Literal["function", "builtin_function"] = "function"
    strict: bool | None = None
    cache: bool = False
    # What pure functions derived from this tool (see :func:`derived`); not part of its value.
    _derived: dict[Any, Any] | None = field(
        default=None, init=False, compare=False, repr=False, hash=False
    )


@record
class ToolChoice:
    mode: Literal["auto", "none", "required", "tool"]
    name: str | None = None  # set when mode == "tool"
    parallel: bool | None = None  # None: the dialect's default


@record
class ThinkingConfig:
    mode: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None
    effort: str | None = None  # "low" | "medium" | "high" | "max" ...
    keep: str | None = None  # Kimi ``thinking.keep`` ("all"): k2.6 and later (docs/kimi.md §8.3)


@record
class OpenAIChatFields:
    """What only a Chat Completions request carries (dialects/openai_chat/request.py).

    ``passthrough`` holds every other Chat field with no canonical form, known (``seed``,
    ``logit_bias``, ``logprobs``, ``safety_identifier`` …, docs/kimi.md §5.1-5.2) or unknown, by
    wire name and verbatim; the openai_chat renderer writes it back, no other renderer reads it.
    """

    partial: bool = False  # Kimi partial mode (§5.3): the last message is an assistant prefix
    passthrough: Mapping[str, JSON] = field(default_factory=dict)
    # The client sent the legacy ``functions``: it reads a call as ``message.function_call``.
    legacy_functions: bool = False


@record
class AnthropicMessagesFields:
    """What only an Anthropic Messages request carries (dialects/anthropic_messages/request.py).

    ``unknown`` holds fields that are not Anthropic fields known here: the parser reports each
    as ``unknown_field`` and the renderer never writes them.
    """

    server_tools: tuple[Mapping[str, JSON], ...] = ()  # non-custom tools, verbatim, in order
    output_config: Mapping[str, JSON] | None = None  # its rest once effort/format are mapped
    top_k: int | None = None
    context_management: Mapping[str, JSON] | None = None
    service_tier: str | None = None
    container: str | Mapping[str, JSON] | None = None  # a container id, or its parameters
    mcp_servers: tuple[Mapping[str, JSON], ...] | None = None
    unknown: Mapping[str, JSON] = field(default_factory=dict)


@record
class OpenAIResponsesFields:
    """What only a Responses request carries (dialects/openai_responses/request.py).

    ``passthrough`` holds every other Responses field with no canonical form (``truncation``,
    ``service_tier``, ``client_metadata``, ``stream_options`` …) by wire name, verbatim.
    """

    hosted_tools: tuple[Mapping[str, JSON], ...] = ()  # non-function tools, verbatim, in order
    tool_choice: Mapping[str, JSON] | None = None  # a form with no canonical one (allowed_tools)
    reasoning: Mapping[str, JSON] | None = None  # its rest once effort is mapped (summary)
    text: Mapping[str, JSON] | None = None  # its rest once format is mapped (verbosity)
    store: bool | None = None
    include: tuple[str, ...] | None = None
    passthrough: Mapping[str, JSON] = field(default_factory=dict)


@record
class Request:
    model: str
    messages: tuple[Message, ...]
    system: tuple[TextPart, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False
    include_usage: bool = False  # OpenAI stream_options.include_usage
    thinking: ThinkingConfig | None = None
    response_format: Mapping[str, JSON] | None = None
    metadata: Mapping[str, JSON] = field(default_factory=dict)
    user: str | None = None
    prompt_cache_key: str | None = None
    # What only one dialect carries; None when the client sent none of it (see the classes).
    openai_chat: OpenAIChatFields | None = None
    anthropic_messages: AnthropicMessagesFields | None = None
    openai_responses: OpenAIResponsesFields | None = None
    diagnostics: tuple[Diagnostic, ...] = ()


@record
class Choice:
    """One further answer of a reply that has several (Chat Completions ``n > 1``)."""

    parts: tuple[Part, ...]
    stop_reason: StopReason | None
    stop_sequence: str | None = None


@record
class Response:
    """A whole reply. ``parts`` and ``stop_reason`` are its first choice; ``more_choices`` the
    others, in order (only Chat Completions asks for several; other dialects never see any)."""

    id: str
    model: str
    parts: tuple[Part, ...]
    stop_reason: StopReason | None
    usage: Usage
    stop_sequence: str | None = None
    created: int | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    more_choices: tuple[Choice, ...] = ()

"""The one table of canonical conversations the contract suite runs through every dialect pair.

Each conversation is written once, as canonical messages (core/model.py), and becomes each
client's wire request through that client dialect's ``render_request`` (pipeline.client_wire).
A conversation is a list of turns: each turn appends its messages after the assistant reply of
the turn before (the reply as the client read it, so thinking and signatures are replayed the
way a client replays them) and says what the next reply must be. Replies are scripted with the
emulator's markers (docs/emulator.md).

Expectations are dialect-neutral; ``Turn.expect_for(pair)`` picks an override where a pair must
differ (a quirk that applies to one upstream only, a flag one client cannot express).

What does not belong here: running (pipeline.py), reading SDK objects (sdk_view.py), the checks
(test_*.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kimi_gateway.core.model import (
    ImagePart,
    Message,
    Part,
    Request,
    Response,
    StopReason,
    TextPart,
    ThinkingConfig,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from kimi_gateway.emulator.script import DEFAULT_REASONING, TOOL_RESULT_PREFIX

OFF = ThinkingConfig("disabled")
ON = ThinkingConfig("enabled")
RED_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
WEATHER = Tool(
    "get_weather",
    "The weather in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = Tool(
    "get_time",
    "The local time in a time zone",
    {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
)
PARIS = '{"city": "Paris"}'  # with a space: the OpenAI→OpenAI pair must echo it byte-exact
ZONE = '{"zone":"Europe/Paris"}'


def reply_call(index: int) -> str:
    """A tool_call_id placeholder: the id of the previous reply's ``index``-th tool call."""
    return f"@reply.call{index}"


@dataclass(frozen=True)
class Call:
    """An expected tool call. ``n`` is the emulator's running tool-call counter (§8.1 ``name:n``),
    which restarts at 0 for each conversation."""

    name: str
    arguments: str  # as scripted
    n: int


@dataclass(frozen=True)
class Expect:
    """The reply a turn must produce, in canonical terms."""

    text: str | None = None
    thinking: str | None = None
    calls: tuple[Call, ...] = ()
    stop: StopReason = "end_turn"
    diagnostics: tuple[str, ...] = ()  # codes, request and reply side, in order


@dataclass(frozen=True)
class Turn:
    messages: tuple[Message, ...]
    expect: Expect
    # Overrides by pair id ("anthropic-via-openai") or by upstream dialect ("openai").
    overrides: Mapping[str, Expect] = field(default_factory=dict)

    def expect_for(self, pair_id: str, upstream: str) -> Expect:
        return self.overrides.get(pair_id) or self.overrides.get(upstream) or self.expect


@dataclass(frozen=True)
class Case:
    name: str
    turns: tuple[Turn, ...]
    system: tuple[TextPart, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig = OFF
    max_tokens: int = 1000
    stop: tuple[str, ...] = ()

    def request(self, messages: tuple[Message, ...]) -> Request:
        """The canonical request of one turn (the pipeline sets model and stream)."""
        return Request(
            model="",
            messages=messages,
            system=self.system,
            tools=self.tools,
            tool_choice=self.tool_choice,
            max_tokens=self.max_tokens,
            stop=self.stop,
            thinking=self.thinking,
        )


def next_messages(
    history: tuple[Message, ...], reply: Response | None, turn: Turn
) -> tuple[Message, ...]:
    """The conversation for ``turn``: history, the previous reply, the turn's messages."""
    if reply is None:
        return (*history, *turn.messages)
    calls = [p.id for p in reply.parts if isinstance(p, ToolCallPart)]
    assistant = Message("assistant", reply.parts)
    return (*history, assistant, *(_resolved(m, calls) for m in turn.messages))


def _resolved(message: Message, calls: list[str]) -> Message:
    return replace(message, parts=tuple(_resolved_part(p, calls) for p in message.parts))


def _resolved_part(part: Part, calls: list[str]) -> Part:
    if isinstance(part, ToolResultPart) and part.tool_call_id.startswith("@reply.call"):
        return replace(part, tool_call_id=calls[int(part.tool_call_id.removeprefix("@reply.call"))])
    return part


def user(*parts: Part | str) -> Message:
    return Message("user", tuple(TextPart(p) if isinstance(p, str) else p for p in parts))


def assistant(*parts: Part | str) -> Message:
    return Message("assistant", tuple(TextPart(p) if isinstance(p, str) else p for p in parts))


def result(call_id: str, text: str, *, is_error: bool = False) -> ToolResultPart:
    return ToolResultPart(call_id, (TextPart(text),), is_error=is_error)


SEEN = TOOL_RESULT_PREFIX  # the emulator's reply to tool results starts so (docs/emulator.md)
SUNNY = "sunny, 21 C"
SHARED_PREFIX = "Remember these words: " + " ".join(f"word{i}" for i in range(40)) + "."

CASES: tuple[Case, ...] = (
    Case("plain_text", (Turn((user("Hello @@text:Hello there.@@"),), Expect("Hello there.")),)),
    Case(
        "multi_turn",
        (
            Turn(
                (
                    user("My name is Ada."),
                    assistant("Nice to meet you, Ada."),
                    user("What is my name? @@text:Your name is Ada.@@"),
                ),
                Expect("Your name is Ada."),
            ),
        ),
    ),
    Case(
        "system_prompts",
        (
            Turn(
                (
                    user("Hi"),
                    assistant("Hello."),
                    Message("system", (TextPart("From now on, answer in French."),)),
                    user("Say hello. @@text:Bonjour.@@"),
                ),
                Expect("Bonjour."),
            ),
        ),
        system=(TextPart("You are terse."),),
    ),
    Case(
        "image",
        (
            Turn(
                (
                    user(
                        ImagePart("base64", RED_PIXEL_PNG, media_type="image/png"),
                        "What colour is it? @@text:Red.@@",
                    ),
                ),
                Expect("Red."),
            ),
        ),
    ),
    Case(
        "parallel_tool_calls",
        (
            Turn(
                (user(f"Weather and time? @@tool:get_weather {PARIS}@@ @@tool:get_time {ZONE}@@"),),
                Expect(
                    calls=(Call("get_weather", PARIS, 0), Call("get_time", ZONE, 1)),
                    stop="tool_use",
                ),
            ),
        ),
        tools=(WEATHER, TIME),
    ),
    Case(
        "tool_result",
        (
            Turn(
                (
                    user("Weather in Paris?"),
                    assistant(ToolCallPart("get_weather:7", "get_weather", PARIS)),
                    user(result("get_weather:7", SUNNY)),
                ),
                Expect(SEEN + SUNNY),
            ),
        ),
        tools=(WEATHER,),
    ),
    Case(
        "tool_error_result",
        (
            Turn(
                (
                    user("Weather in Paris?"),
                    assistant(ToolCallPart("get_weather:7", "get_weather", PARIS)),
                    user(result("get_weather:7", "city not found", is_error=True)),
                ),
                Expect(SEEN + "city not found"),
                # An OpenAI tool message has no error flag (field-lessons §2): the loss is named.
                {
                    "anthropic-via-openai": Expect(
                        SEEN + "city not found", diagnostics=("dropped_is_error",)
                    )
                },
            ),
        ),
        tools=(WEATHER,),
    ),
    Case(
        "thinking_tools",
        (
            Turn(
                (
                    user(
                        "Weather, then time? @@think:I need the weather.@@ "
                        f"@@tool:get_weather {PARIS}@@"
                    ),
                ),
                Expect(
                    thinking="I need the weather.",
                    calls=(Call("get_weather", PARIS, 0),),
                    stop="tool_use",
                ),
            ),
            Turn(
                (
                    user(
                        result(
                            reply_call(0),
                            f"{SUNNY} @@think:Now the time.@@ @@tool:get_time {ZONE}@@",
                        )
                    ),
                ),
                Expect(
                    SEEN + f"{SUNNY} @@think:Now the time.@@ @@tool:get_time {ZONE}@@",
                    thinking="Now the time.",
                    calls=(Call("get_time", ZONE, 1),),
                    stop="tool_use",
                ),
            ),
            Turn(
                (
                    user(
                        result(reply_call(0), "12:00 @@think:Both known.@@ @@text:Sunny at noon.@@")
                    ),
                ),
                Expect(
                    SEEN + "12:00 @@think:Both known.@@ @@text:Sunny at noon.@@\nSunny at noon.",
                    thinking="Both known.",
                ),
            ),
        ),
        tools=(WEATHER, TIME),
        thinking=ON,
    ),
    Case(
        "forced_tool_under_thinking",
        (
            Turn(
                (user(f"Weather? @@tool:get_weather {PARIS}@@"),),
                Expect(
                    thinking=DEFAULT_REASONING,
                    calls=(Call("get_weather", PARIS, 0),),
                    stop="tool_use",
                ),
                # §8.4: k2.6 refuses tool_choice "required" with thinking on; the default policy
                # turns thinking off for the request and says so. Anthropic's "any" is accepted.
                {
                    "openai": Expect(
                        calls=(Call("get_weather", PARIS, 0),),
                        stop="tool_use",
                        diagnostics=("changed_thinking",),
                    )
                },
            ),
        ),
        tools=(WEATHER,),
        tool_choice=ToolChoice("required"),
        thinking=ON,
    ),
    Case(
        "stop_sequence",
        (
            Turn(
                (user("Count. @@text:one two STOP three@@"),),
                Expect("one two "),
                # The emulator's OpenAI face checks `stop` but does not apply it (only its
                # Anthropic faces do); test_wire_bodies checks the gateway sends it.
                {"openai": Expect("one two STOP three")},
            ),
        ),
        stop=("STOP",),
    ),
    Case(
        "max_tokens",
        (
            Turn(
                (user("Count. @@text:one two three four five six seven eight@@"),),
                Expect("one two three four", stop="max_tokens"),
            ),
        ),
        max_tokens=4,
    ),
    Case(
        "cached_prefix",
        (
            Turn((user(SHARED_PREFIX + " @@text:Noted.@@"),), Expect("Noted.")),
            # The first message was seen before: Kimi reports its tokens as cached (§12).
            Turn((user("And now? @@text:Done.@@"),), Expect("Done.")),
        ),
    ),
)
CASES_BY_NAME: Mapping[str, Case] = {case.name: case for case in CASES}


# A reply cut off mid-stream (the emulator drops the line after two events, docs/emulator.md).
CUT_MID_STREAM = Case(
    "cut_mid_stream",
    (Turn((user("Talk. @@text:one two three four five six@@ @@cut@@"),), Expect()),),
)


@dataclass(frozen=True)
class ErrorCase:
    """A scripted upstream error and what each client dialect must receive."""

    name: str
    marker: str
    kind: str  # the GatewayError kind the upstream parser gives
    openai: tuple[int, str]  # status, error.type an OpenAI client receives
    anthropic: tuple[int, str]  # ... an Anthropic client
    # Kimi Code's Anthropic face names some errors by Anthropic's types (§13.4), which can say
    # more or less than Kimi's own: the kind read from them.
    via_anthropic: tuple[str, tuple[int, str], tuple[int, str]] | None = None

    def expect(self, upstream: str) -> tuple[str, tuple[int, str], tuple[int, str]]:
        if upstream == "anthropic" and self.via_anthropic is not None:
            return self.via_anthropic
        return self.kind, self.openai, self.anthropic


ERROR_CASES: tuple[ErrorCase, ...] = (
    # §2.2: Kimi's 429 engine_overloaded_error; Anthropic clients retry a 529 overloaded_error.
    ErrorCase(
        "overloaded",
        "@@error:429@@",
        "overloaded",
        (429, "server_error"),
        (529, "overloaded_error"),
    ),
    ErrorCase(
        "rate_limit",
        "@@error:429:rate_limit_reached_error@@",
        "rate_limit",
        (429, "rate_limit_error"),
        (429, "rate_limit_error"),
    ),
    # §2.4: quota exhaustion is never retried: 402 billing_error for Anthropic clients.
    ErrorCase(
        "quota",
        "@@error:429:exceeded_current_quota_error@@",
        "quota_exhausted",
        (429, "insufficient_quota"),
        (402, "billing_error"),
    ),
    ErrorCase(
        "bad_request",
        "@@error:400@@",
        "invalid_request",
        (400, "invalid_request_error"),
        (400, "invalid_request_error"),
    ),
    ErrorCase("server", "@@error:500@@", "server", (500, "server_error"), (500, "api_error")),
    # Kimi's 503 server_unavailable; Kimi Code's Anthropic face sends it as overloaded_error.
    ErrorCase(
        "unavailable",
        "@@error:503@@",
        "unavailable",
        (503, "server_error"),
        (503, "api_error"),
        via_anthropic=("overloaded", (503, "server_error"), (529, "overloaded_error")),
    ),
)

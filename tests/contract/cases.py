"""The one table of canonical conversations the contract suite runs through every dialect pair.

Each conversation is written once, as canonical messages (core/model.py), and becomes each
client's wire request through that client dialect's ``render_request`` (pipeline.client_wire).
A conversation is a list of turns: each turn appends its messages after the assistant reply of
the turn before (the reply as the client read it, so thinking and signatures are replayed the
way a client replays them) and says what the next reply must be. Replies are scripted with the
emulator's markers (docs/emulator.md).

Expectations are dialect-neutral; ``Turn.expect_for(pair)`` picks an override where a pair must
differ (a quirk that applies to one upstream only, a flag one client cannot express).

What does not belong here: the shape of a case (case_model.py), scripted errors
(error_cases.py), running (pipeline.py), reading SDK objects (sdk_view.py), the checks
(test_*.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from kimi_gateway.core.model import (
    ImagePart,
    Message,
    TextPart,
    ThinkingConfig,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from kimi_gateway.emulator.script import DEFAULT_REASONING, TOOL_RESULT_PREFIX

from .case_model import ON, Call, Case, Expect, Turn, assistant, reply_call, result, user

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
                # An OpenAI tool message has no error flag (docs/kimi.md §F2): the loss is named.
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
    Case(
        "unicode_text",
        (Turn((user("Greet. @@text:Grüße 👋 — 你好!@@"),), Expect("Grüße 👋 — 你好!")),),
    ),
    Case(
        "consecutive_user_messages",
        (Turn((user("First."), user("Second. @@text:Both read.@@")), Expect("Both read.")),),
    ),
    Case(
        "tool_call_without_arguments",
        (
            Turn(
                (user("What time is it? @@tool:get_time@@"),),
                Expect(calls=(Call("get_time", "{}", 0),), stop="tool_use"),
            ),
        ),
        tools=(TIME,),
    ),
    Case(
        "named_tool_under_thinking",
        (
            Turn(
                (user(f"Weather? @@tool:get_weather {PARIS}@@"),),
                # §8.4: a named tool_choice with thinking on is refused by k2.6 on both faces
                # and by every Kimi Code model: thinking goes off for the request, said plainly.
                Expect(
                    calls=(Call("get_weather", PARIS, 0),),
                    stop="tool_use",
                    diagnostics=("changed_thinking",),
                ),
            ),
        ),
        tools=(WEATHER, TIME),
        tool_choice=ToolChoice("tool", name="get_weather"),
        thinking=ON,
    ),
    Case(
        "thinking_budget",
        (
            Turn(
                (user("Think. @@think:Hmm.@@ @@text:Done.@@"),),
                Expect("Done.", thinking="Hmm."),
                # k2.6's OpenAI face has no budget (§4.2): thinking stays on, the budget goes.
                {"openai": Expect("Done.", thinking="Hmm.", diagnostics=("changed_thinking",))},
            ),
        ),
        thinking=ThinkingConfig("enabled", budget_tokens=2048),
    ),
    Case(
        "tool_result_with_image",
        (
            Turn(
                (
                    user("Show me the map."),
                    assistant(ToolCallPart("get_weather:7", "get_weather", PARIS)),
                    user(
                        ToolResultPart(
                            "get_weather:7",
                            (
                                TextPart("a map"),
                                ImagePart("base64", RED_PIXEL_PNG, media_type="image/png"),
                            ),
                        )
                    ),
                ),
                Expect(SEEN + "a map"),
            ),
        ),
        tools=(WEATHER,),
    ),
    Case(
        "max_tokens_in_thinking",
        (
            Turn(
                (user("@@think:one two three four five@@ @@text:Done.@@"),),
                # Reasoning is spent first (§7.2): the budget ends inside it, no text follows.
                Expect(thinking="one two three", stop="max_tokens"),
            ),
        ),
        thinking=ON,
        max_tokens=3,
    ),
)
CASES_BY_NAME: Mapping[str, Case] = {case.name: case for case in CASES}


# A reply cut off mid-stream (the emulator drops the line after two events, docs/emulator.md).
CUT_MID_STREAM = Case(
    "cut_mid_stream",
    (Turn((user("Talk. @@text:one two three four five six@@ @@cut@@"),), Expect()),),
)

"""Per-model Kimi capability data: one frozen :class:`ModelProfile` per model, looked up by name.

Only data lives here — a table, no behaviour beyond the lookup. The fix-ups that read these
values are in ``quirks*.py``. Every value cites its docs/kimi.md section and provenance tag; where
the reference says a value is unconfirmed ([?]), the profile takes the side that cannot cause a
Kimi 400 (omit rather than send, reject forced tools under thinking) and says so.

What does not belong here: policies a deployment may choose (``policy.py``), hosts and auth
(``adapter.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

ThinkingMode = Literal["none", "switchable", "always"]
ThinkingControl = Literal["none", "thinking_type", "reasoning_effort"]
Product = Literal["platform", "kimi_code"]


@dataclass(frozen=True, slots=True)
class Range:
    """Any value in [low, high] is accepted; outside it Kimi answers 400 (§4.2)."""

    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Fixed:
    """Only one value is accepted, which may depend on thinking (§4.2 "fixed": wrong → 400)."""

    thinking: float
    plain: float


@dataclass(frozen=True, slots=True)
class Unsupported:
    """The model documents no such parameter: never send it (omitting is always safe, §4.2)."""


SamplingRule: TypeAlias = Range | Fixed | Unsupported


@dataclass(frozen=True, slots=True)
class Sampling:
    temperature: SamplingRule
    top_p: SamplingRule
    n: SamplingRule
    presence_penalty: SamplingRule
    frequency_penalty: SamplingRule
    default_temperature: float | None = None  # the server's default when the field is absent


@dataclass(frozen=True, slots=True)
class ModelProfile:
    name: str
    product: Product
    context_window: int | None  # tokens; None: unknown (no clamping)
    thinking: ThinkingMode
    thinking_default_on: bool  # only meaningful for "switchable"
    thinking_control: ThinkingControl  # how the wire expresses thinking
    keep_values: tuple[str, ...]  # accepted ``thinking.keep`` values; () = no keep field
    reasoning_efforts: tuple[str, ...]  # accepted ``reasoning_effort`` values
    default_reasoning_effort: str | None
    sampling: Sampling
    tool_choice_forced: bool  # "required"/named tool_choice accepted with thinking off
    tool_choice_forced_thinking: bool  # ... and with thinking on
    image_input: bool
    video_input: bool
    max_tools: int | None  # None: no documented cap
    default_max_tokens: int | None  # None: undocumented (§5.4)
    max_output_tokens: int | None
    requires_prompt_cache_key: bool  # §5.1/§13.1 [O]: required on the Kimi Code plan
    known: bool = True  # False for the conservative default of unknown names
    # A system message with ``tools`` and no content mid-conversation (§5.1 [O] OAS
    # ``KimiK3DynamicToolMessage``); elsewhere such tools are declared up front instead.
    dynamic_tools: bool = False


# §4.2 [O] OAS: moonshot-v1 and the k2 previews take ranges; penalties are [-2, 2].
_PENALTY = Range(-2.0, 2.0)
_RANGED = Sampling(
    temperature=Range(0.0, 1.0),  # §4.2 [O] range [0,1]; >1 rejected [3C] LITELLM clamps
    top_p=Range(0.0, 1.0),
    n=Range(1, 5),
    presence_penalty=_PENALTY,
    frequency_penalty=_PENALTY,
)
# §4.2 [O] OAS models-overview, [3M] HALRO §2.3: k2.5/k2.6 fix every sampling value.
_FIXED_K2X = Sampling(
    temperature=Fixed(thinking=1.0, plain=0.6),
    top_p=Fixed(0.95, 0.95),
    n=Fixed(1, 1),
    presence_penalty=Fixed(0.0, 0.0),
    frequency_penalty=Fixed(0.0, 0.0),
)
# §4.2 [O]: k2.7-code is "fixed (thinking always on)"; the values are those of k2.x thinking.
_FIXED_K27 = _FIXED_K2X
# §4.2 [O]: k3 documents no sampling parameters ("not in the spec"): never send them.
_NO_SAMPLING = Sampling(
    temperature=Unsupported(),
    top_p=Unsupported(),
    n=Unsupported(),
    presence_penalty=Unsupported(),
    frequency_penalty=Unsupported(),
)

_MOONSHOT_V1 = ModelProfile(
    name="moonshot-v1",
    product="platform",
    context_window=131072,  # §4.1 [O]: -auto picks up to 128k
    thinking="none",
    thinking_default_on=False,
    thinking_control="none",
    keep_values=(),
    reasoning_efforts=(),
    default_reasoning_effort=None,
    sampling=replace(_RANGED, default_temperature=0.0),  # §4.2 [O] default 0.0
    # §8.4 [O] DOCS-OLD: "required" unsupported before OAS 2026-07-13; unmeasured since [?].
    tool_choice_forced=False,
    tool_choice_forced_thinking=False,
    image_input=False,  # §4.1 [O]: only the -vision-preview ids take images
    video_input=False,
    max_tools=128,  # §5.1 [O] older docs: at most 128 tools
    default_max_tokens=1024,  # §5.4 [O] CB: "about 1024"
    max_output_tokens=None,
    requires_prompt_cache_key=False,
)

_K2_PREVIEW = replace(
    _MOONSHOT_V1,
    name="kimi-k2-preview",
    context_window=262144,  # §4.1 [O]: 0905/turbo 256k
    sampling=replace(_RANGED, default_temperature=0.6),  # §4.2 [O] default 0.6
    default_max_tokens=None,  # §5.4 [?] undocumented for k2.x
)

_K2_THINKING = replace(
    _K2_PREVIEW,
    name="kimi-k2-thinking",
    thinking="always",  # §4.1 [O] "always"
    thinking_default_on=True,
    sampling=replace(_RANGED, default_temperature=1.0),  # §4.2 [O] default 1.0
)

_K25 = ModelProfile(
    name="kimi-k2.5",
    product="platform",
    context_window=262144,  # §4.1 [O] 256k
    thinking="switchable",  # §4.1 [O] switchable, default on
    thinking_default_on=True,
    thinking_control="thinking_type",  # §4.2 [O] thinking: {"type": enabled|disabled}
    keep_values=(),  # §4.2 [O]: keep arrives with k2.6
    reasoning_efforts=(),
    default_reasoning_effort=None,
    sampling=_FIXED_K2X,
    # §8.4 [O] OAS allows forced tools; §17.1/[3M] HALRO: rejected with thinking on (k2.6
    # measured, k2.5 assumed) — the emulator's safe default agrees.
    tool_choice_forced=True,
    tool_choice_forced_thinking=False,
    image_input=True,  # §9 [O] vision guide: image_url and ms:// for k2.5+
    video_input=True,  # §9 [O] video guide: video_url with ms:// ids
    max_tools=None,  # §5.1 [O]: the 2026 OAS documents no cap (128 was the older docs)
    default_max_tokens=None,  # §5.4 [?] undocumented
    max_output_tokens=None,  # §4.1 [O]: context minus prompt
    requires_prompt_cache_key=False,
)

_K26 = replace(_K25, name="kimi-k2.6", keep_values=("all",))  # §4.2 [O] keep: "all" | null

_K27_CODE = replace(
    _K25,
    name="kimi-k2.7-code",
    thinking="always",  # §4.1/§4.2 [O]: only type=enabled; disabled → 400 (§2.3 [3M])
    keep_values=("all",),  # §4.2 [O]: keep only "all" (null/absent mean all)
    sampling=_FIXED_K27,
    image_input=False,  # [?] §4.1 lists no image input for the coding model: do not claim it
    video_input=False,  # [?] not documented for the coding model: do not claim it
)

_K3 = ModelProfile(
    name="kimi-k3",
    product="platform",
    context_window=1048576,  # §4.1 [O] 1M (1024×1024)
    thinking="always",  # §4.2 [O] "Thinking cannot be turned off"
    thinking_default_on=True,
    thinking_control="reasoning_effort",  # §4.2 [O] reasoning_effort low|high|max
    keep_values=(),  # §8.3 [O]: preserved thinking is always on for k3
    reasoning_efforts=("low", "high", "max"),
    default_reasoning_effort="max",  # §4.2 [O] default max
    sampling=_NO_SAMPLING,
    tool_choice_forced=True,  # §8.4 [3M] HALRO: accepted on k3
    tool_choice_forced_thinking=True,
    image_input=True,
    video_input=True,  # §9 [O] the K3 quickstart uploads purpose="video" → ms://
    max_tools=None,
    default_max_tokens=131072,  # §4.1/§5.4 [O]
    max_output_tokens=1048576,  # §4.1 [O] max 1048576
    requires_prompt_cache_key=False,
    dynamic_tools=True,  # §5.1 [O] OAS KimiK3DynamicToolMessage (the platform's OpenAI face)
)


def _on_kimi_code(profile: ModelProfile, name: str) -> ModelProfile:
    """The same model served by Kimi Code (§13), whose limits differ from the platform's.

    262,144-token context and a 2 MiB body cap [O] KCDOCS; at most 128 tools (docs/kimi.md
    §F2.10, Kimi-K2 #90); prompt_cache_key required [O] OAS (§5.1, §13.1); images base64 or
    ms:// only [O] KCDOCS. Sampling is undocumented there: send none [?]. Default output 32768
    is [3C] (§5.4, autobot docs). A named tool_choice with thinking on is refused for every
    Kimi Code model, k3 included ([3M] HALRO compatibility/kimi_code.go, §8.4).
    """
    return replace(
        profile,
        name=name,
        product="kimi_code",
        context_window=262144,
        max_tools=128,
        requires_prompt_cache_key=True,
        sampling=_NO_SAMPLING,
        default_max_tokens=32768,
        max_output_tokens=None,
        tool_choice_forced_thinking=False,
        dynamic_tools=False,  # [?] documented for the platform's K3 only (§5.1)
    )


# §4.1 [O] HC "thinking: yes" for kimi-for-coding; the K2.x switch is assumed [?]. Forced tools
# under thinking are unmeasured on Kimi Code: take the k2.x rule (reject) [?].
_KC_FOR_CODING = _on_kimi_code(_K26, "kimi-for-coding")
_KC_K3 = _on_kimi_code(_K3, "k3")
# Kimi Code takes images on its models (§13 [O] KCDOCS: base64 or ms://).
_KC_K27 = replace(_on_kimi_code(_K27_CODE, "kimi-k2.7"), image_input=True)

# Unknown names: touch as little as possible but never send what no Kimi model accepts.
# Sampling keeps the documented [0,1] temperature range (§4.2 [O], every ranged model); thinking
# is off unless the request asks; forced tool_choice passes (it is valid OAS, §5.1).
_UNKNOWN = ModelProfile(
    name="unknown",
    product="platform",
    context_window=None,
    thinking="switchable",
    thinking_default_on=False,
    thinking_control="thinking_type",
    keep_values=(),
    reasoning_efforts=(),
    default_reasoning_effort=None,
    sampling=_RANGED,
    tool_choice_forced=True,
    tool_choice_forced_thinking=False,
    image_input=True,
    video_input=False,
    max_tools=None,
    default_max_tokens=None,
    max_output_tokens=None,
    requires_prompt_cache_key=False,
    known=False,
)


_PLATFORM: dict[str, ModelProfile] = {
    "moonshot-v1-8k": replace(_MOONSHOT_V1, name="moonshot-v1-8k", context_window=8192),
    "moonshot-v1-32k": replace(_MOONSHOT_V1, name="moonshot-v1-32k", context_window=32768),
    "moonshot-v1-128k": replace(_MOONSHOT_V1, name="moonshot-v1-128k"),
    "moonshot-v1-auto": replace(_MOONSHOT_V1, name="moonshot-v1-auto"),
    # §4.1 [O]: the vision previews take images, same contexts.
    "moonshot-v1-8k-vision-preview": replace(
        _MOONSHOT_V1, name="moonshot-v1-8k-vision-preview", context_window=8192, image_input=True
    ),
    "moonshot-v1-32k-vision-preview": replace(
        _MOONSHOT_V1, name="moonshot-v1-32k-vision-preview", context_window=32768, image_input=True
    ),
    "moonshot-v1-128k-vision-preview": replace(
        _MOONSHOT_V1, name="moonshot-v1-128k-vision-preview", image_input=True
    ),
    "kimi-k2-0711-preview": replace(
        _K2_PREVIEW, name="kimi-k2-0711-preview", context_window=131072
    ),
    "kimi-k2-0905-preview": replace(_K2_PREVIEW, name="kimi-k2-0905-preview"),
    "kimi-k2-turbo-preview": replace(_K2_PREVIEW, name="kimi-k2-turbo-preview"),
    "kimi-k2-thinking": _K2_THINKING,
    "kimi-k2-thinking-turbo": replace(_K2_THINKING, name="kimi-k2-thinking-turbo"),
    "kimi-k2.5": _K25,
    "kimi-k2.6": _K26,
    "kimi-k2.7-code": _K27_CODE,
    "kimi-k2.7-code-highspeed": replace(_K27_CODE, name="kimi-k2.7-code-highspeed"),
    "kimi-k3": _K3,
}

_KIMI_CODE_TABLE: dict[str, ModelProfile] = {
    # §4.1 [O] HC third-party-agents.md
    "kimi-for-coding": _KC_FOR_CODING,
    "kimi-for-coding-highspeed": replace(_KC_FOR_CODING, name="kimi-for-coding-highspeed"),
    # §4.1 [3M] HALRO, OPENCODE: names Kimi Code also accepts
    "k3": _KC_K3,
    "k3-256k": _on_kimi_code(_K3, "k3-256k"),
    "kimi-k3": _on_kimi_code(_K3, "kimi-k3"),
    "kimi-k2.7": _KC_K27,
    "k2.7": replace(_KC_K27, name="k2.7"),
    "kimi-k2.5": _on_kimi_code(_K25, "kimi-k2.5"),
}


def _normalise(model: str) -> str:
    """Lower-case and drop a client-side suffix such as Claude Code's ``[1m]`` (§14 [O] HC)."""
    name = model.strip().lower()
    if name.endswith("]") and "[" in name:
        name = name[: name.rindex("[")]
    return name


def profile_for(model: str, *, product: Product = "platform") -> ModelProfile:
    """The profile of ``model`` on ``product``; a conservative default for unknown names.

    Kimi Code names are looked up first on the Kimi Code product and the platform table is the
    fallback there (a platform id sent to Kimi Code still gets Kimi Code's limits).
    """
    name = _normalise(model)
    if product == "kimi_code":
        found = _KIMI_CODE_TABLE.get(name)
        if found is not None:
            return found
        platform = _PLATFORM.get(name)
        return _on_kimi_code(platform or _UNKNOWN, name)
    found = _PLATFORM.get(name) or _KIMI_CODE_TABLE.get(name)
    if found is not None:
        return found
    return replace(_UNKNOWN, name=name)


def known_models(product: Product = "platform") -> tuple[str, ...]:
    """The names this table knows, for /v1/models listings and tests."""
    table = _KIMI_CODE_TABLE if product == "kimi_code" else _PLATFORM
    return tuple(table)

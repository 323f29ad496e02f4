"""What a deployment may choose about Kimi fix-ups: :class:`QuirkPolicy`, and how a fix-up
records a change of meaning (:func:`noted`).

Defaults are the safe side: never send a request Kimi is known to reject, never fetch a URL,
never drop something without a diagnostic. ``strict`` turns every change of meaning into a
400 :class:`TranslationError` instead (issue 3 §4).

What does not belong here: per-model facts (``profiles.py``), the fix-ups (``quirks*.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal, TypeAlias

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Diagnostic, Request
from kimi_gateway.core.records import record
from kimi_gateway.settings_files import FILE_PURPOSES
from kimi_gateway.upstreams.kimi.profiles import ModelProfile

if TYPE_CHECKING:  # schema_memo imports schema_mfjs; nothing here needs it at run time
    from kimi_gateway.upstreams.kimi.schema_memo import SchemaMemo

UpstreamDialect = Literal["openai_chat", "anthropic_messages"]
SamplingParam = Literal["temperature", "top_p", "n", "presence_penalty", "frequency_penalty"]
SamplingAction = Literal["omit", "force", "clamp", "pass"]

ReasoningLookup: TypeAlias = Callable[[str], "str | None"]
"""Reasoning text a caller stored for an assistant turn, keyed by one of its tool-call ids."""
SignatureCheck: TypeAlias = Callable[[str], bool]
"""Whether a thinking block's signature is one this upstream issued."""


@dataclass(frozen=True, slots=True)
class SamplingOverride:
    """A per-model exception to the profile's sampling rule (docs/kimi.md §F2.3: Kimi's own
    validation can be wrong, Kimi-K2 #124, so an override may *omit* a parameter).

    ``model`` is an exact id or an ``fnmatch`` pattern (``"kimi-k2.*"``). ``action``: ``omit``
    never sends the parameter, ``force`` always sends ``value``, ``clamp`` clamps into
    [``low``, ``high``], ``pass`` sends what the client sent.
    """

    model: str
    param: SamplingParam
    action: SamplingAction
    value: float | None = None
    low: float = 0.0
    high: float = 1.0

    def matches(self, model: str) -> bool:
        return fnmatchcase(model.lower(), self.model.lower())


@dataclass(frozen=True, slots=True)
class QuirkPolicy:
    """Choices for the fix-ups whose right answer depends on the deployment."""

    strict: bool = False  # every change of meaning becomes a 400 naming it
    # A wrong value on a fixed-sampling model (§4.2): omit it (safe, the server uses the fixed
    # value) or send the fixed value.
    fixed_sampling: Literal["omit", "force"] = "omit"
    sampling_overrides: tuple[SamplingOverride, ...] = ()
    default_temperature: float | None = None  # KIMI_TEMPERATURE; only where the range allows
    # n > 1 with temperature ≈ 0 (§4.2 [O]): n calls of one choice each (engine/fanout.py),
    # raise temperature (LiteLLM), or refuse.
    n_with_low_temperature: Literal["fan_out", "raise_temperature", "reject"] = "fan_out"
    min_temperature_for_n: float = 0.3  # [3C] LITELLM's threshold and value
    # n > 1 on a model that gives one answer per request (n fixed at 1 or absent, §4.2 [O]):
    # n calls of one choice each (engine/fanout.py), or n omitted with a diagnostic.
    n_on_single_choice_models: Literal["fan_out", "omit"] = "fan_out"
    # tool_choice required/named where the profile rejects it under thinking (§8.4).
    # disable_thinking falls back to nudge on models whose thinking cannot be turned off.
    forced_tool_choice: Literal["disable_thinking", "nudge", "reject"] = "disable_thinking"
    nudge_text: str = "Please select a tool to handle the current issue."  # §8.4 [O] DOCS-OLD
    nudge_named_text: str = "Please use the {name} tool to handle the current issue."
    # An assistant tool-call turn without reasoning while thinking is on (docs/kimi.md §8.3, §F2.1).
    # disable_thinking falls back to placeholder on always-thinking models.
    missing_reasoning: Literal["placeholder", "disable_thinking", "reject"] = "placeholder"
    reasoning_placeholder: str = " "  # [3C] LITELLM fills a single space
    stop_overflow: Literal["enforce", "truncate", "reject"] = (
        "enforce"  # §5.1: ≤ 5 entries of ≤ 32 bytes
    )
    # Kimi rejects a tool message without content (docs/kimi.md §5.1 [O]; docs/kimi.md §F2.9).
    empty_tool_result_text: str = "(empty)"
    # An empty user message (valid for OpenAI clients) becomes this text: Kimi rejects empty
    # messages ("must not be empty", docs/kimi.md §5.1 [O], §2.3).
    empty_user_message_text: str = "(empty)"
    trim_tools: bool = False  # over the tool cap: off = refuse; on = keep the first N
    derive_prompt_cache_key: bool = True  # Kimi Code requires one (§13.1)
    default_max_tokens: int | None = None  # KIMI_MAX_TOKENS, when the request sets none
    # max_tokens over the context minus a low prompt estimate is lowered to fit (§2.2, §4.1),
    # never below max_tokens_floor (a request that fits is never cut; near the window Kimi
    # judges).
    clamp_max_tokens_to_context: bool = True
    max_tokens_floor: int = 1024
    # Anthropic thinking budget → k3 reasoning_effort: ≤ low → "low", ≤ high → "high", else max.
    effort_budget_low: int = 4096
    effort_budget_high: int = 32768
    # OpenAI upload purposes Kimi does not have → one of Kimi's, or "auto" by the file's type
    # (§9 [O] OAS: file-extract, image, video, batch; upstreams/kimi/file_purpose.py).
    file_purposes: Mapping[str, str] = field(default_factory=lambda: dict(FILE_PURPOSES))
    # Anthropic thinking blocks Kimi did not sign (Claude's, redacted_thinking, or Kimi's own
    # issued before a restart or by another replica) in a history: send their text without
    # the signature (redacted ones dropped), drop them, or send them as they came (docs/kimi.md
    # §13.3, §F2.6). `unsigned` keeps the history Kimi reads the same, and so its prefix cache
    # (§12), whichever process serves the turn; `drop` changes it (quirks_thinking.py).
    foreign_thinking: Literal["unsigned", "drop", "keep"] = "unsigned"
    remembered_signatures: int = 50_000  # the signatures a Kimi Anthropic face issued, per face
    # Memory for tool schemas made MFJS before, per upstream (schema_memo.py); 0 turns it off.
    schema_memo_bytes: int = 8 << 20

    def sampling_override(self, model: str, param: SamplingParam) -> SamplingOverride | None:
        """The last matching override wins, so later entries refine earlier ones."""
        found = None
        for override in self.sampling_overrides:
            if override.param == param and override.matches(model):
                found = override
        return found


@record
class QuirkContext:
    """What every fix-up may read besides the request: one value, so all share a signature."""

    profile: ModelProfile
    policy: QuirkPolicy
    dialect: UpstreamDialect = "openai_chat"
    reasoning_lookup: ReasoningLookup | None = None
    # Whether a thinking signature was issued by this upstream (Kimi's Anthropic faces); None
    # where the upstream issues none (Kimi's OpenAI faces: every signature is foreign there).
    signature_issued: SignatureCheck | None = None
    # Tool schemas made MFJS before, by this upstream (schema_memo.py); None: normalise each.
    schema_memo: SchemaMemo | None = None

    @property
    def openai(self) -> bool:
        return self.dialect == "openai_chat"

    def note(self, request: Request, code: str, detail: str, param: str) -> tuple[Diagnostic, ...]:
        return noted(request, self.policy, code, detail, param)


def noted(
    request: Request, policy: QuirkPolicy, code: str, detail: str, param: str
) -> tuple[Diagnostic, ...]:
    """The request's diagnostics plus one for a change of meaning; in strict mode, a 400."""
    if policy.strict:
        raise TranslationError(f"strict mode: the request would be changed: {detail}", param=param)
    return (*request.diagnostics, Diagnostic(code=code, detail=detail))


def refuse(detail: str, param: str) -> TranslationError:
    """A request Kimi would reject and no policy allows us to fix."""
    return TranslationError(detail, param=param)

"""The models the emulator serves and their profiles (docs/kimi.md §4.1, §11, §13.1).

A profile is data: context window, rule family (rules.py keys its per-model table on it),
capabilities for `/v1/models`, and whether the model is retired (§17.11). Kimi Code request names
(§13.1) map to profiles of their own; Kimi Code reports every reply as `kimi-for-coding` (§13.1
[3C] OpenClaw skill page).
"""

from __future__ import annotations

from dataclasses import dataclass

KIMI_CODE_REPORTED_MODEL = "kimi-for-coding"
KIMI_CODE_CONTEXT = 262_144  # §13.1 [O] KCDOCS
CREATED = 1_750_000_000  # a fixed `created` so listings are stable


@dataclass(frozen=True)
class ModelProfile:
    id: str
    context_length: int
    family: str  # a key of rules.RULES
    image_in: bool = False
    video_in: bool = False
    reasoning: bool = False
    retired: bool = False
    display_name: str | None = None


def _v1(suffix: str, context: int, vision: bool = False) -> ModelProfile:
    return ModelProfile(f"moonshot-v1-{suffix}", context, "moonshot-v1", image_in=vision)


_PLATFORM = (
    _v1("8k", 8_192),
    _v1("32k", 32_768),
    _v1("128k", 131_072),
    _v1("auto", 131_072),
    _v1("8k-vision-preview", 8_192, vision=True),
    _v1("32k-vision-preview", 32_768, vision=True),
    _v1("128k-vision-preview", 131_072, vision=True),
    # §4.1: the k2 previews and thinking models left OAS on 2026-06-12.
    ModelProfile("kimi-k2-0711-preview", 131_072, "kimi-k2", retired=True),
    ModelProfile("kimi-k2-0905-preview", 262_144, "kimi-k2", retired=True),
    ModelProfile("kimi-k2-turbo-preview", 262_144, "kimi-k2", retired=True),
    ModelProfile("kimi-k2-thinking", 262_144, "kimi-k2-thinking", reasoning=True, retired=True),
    ModelProfile(
        "kimi-k2-thinking-turbo", 262_144, "kimi-k2-thinking", reasoning=True, retired=True
    ),
    ModelProfile("kimi-k2.5", 262_144, "kimi-k2.5", True, True, True),
    ModelProfile("kimi-k2.6", 262_144, "kimi-k2.6", True, True, True),
    ModelProfile("kimi-k2.7-code", 262_144, "kimi-k2.7-code", reasoning=True),
    ModelProfile("kimi-k2.7-code-highspeed", 262_144, "kimi-k2.7-code", reasoning=True),
    ModelProfile("kimi-k3", 1_048_576, "kimi-k3", True, True, True),  # 1024×1024, §4.1
)

_KIMI_CODE = (
    ModelProfile(
        "kimi-for-coding",
        KIMI_CODE_CONTEXT,
        "kimi-code",
        True,
        False,
        True,
        display_name="Kimi For Coding",
    ),
    ModelProfile(
        "kimi-for-coding-highspeed",
        KIMI_CODE_CONTEXT,
        "kimi-code",
        True,
        False,
        True,
        display_name="Kimi For Coding HighSpeed",
    ),
)
# §13.1 [3M] HALRO, OPENCODE: names accepted on requests but not listed.
_KIMI_CODE_ALIASES = ("k3", "k3-256k", "kimi-k2.7", "k2.7", "kimi-k2.5")


def platform_models(include_retired: bool) -> tuple[ModelProfile, ...]:
    return tuple(m for m in _PLATFORM if include_retired or not m.retired)


def find_platform_model(model: str, retired_404: bool) -> ModelProfile | None:
    for profile in _PLATFORM:
        if profile.id == model and not (retired_404 and profile.retired):
            return profile
    return None


def kimi_code_models() -> tuple[ModelProfile, ...]:
    return _KIMI_CODE


def find_kimi_code_model(model: str, accept_unknown: bool) -> ModelProfile | None:
    for profile in _KIMI_CODE:
        if profile.id == model:
            return profile
    if model in _KIMI_CODE_ALIASES or accept_unknown:
        return ModelProfile(model, KIMI_CODE_CONTEXT, "kimi-code", True, False, True)
    return None


def model_entry(profile: ModelProfile) -> dict[str, object]:
    """One `/v1/models` entry, §11 [O] OAS (`display_name` only on Kimi Code's list)."""
    entry: dict[str, object] = {
        "id": profile.id,
        "object": "model",
        "created": CREATED,
        "owned_by": "moonshot",
        "context_length": profile.context_length,
        "supports_image_in": profile.image_in,
        "supports_video_in": profile.video_in,
        "supports_reasoning": profile.reasoning,
    }
    if profile.display_name is not None:
        entry["display_name"] = profile.display_name
    return entry

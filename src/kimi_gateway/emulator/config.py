"""The emulator's configuration: a frozen model loaded from YAML (or all defaults).

Defaults are the "quiet" emulator: any well-formed key accepted, no User-Agent gating, no faults,
no rate limits. Tests opt in to the rest. Behaviours docs/kimi.md marks [?] are switches here,
each defaulting to the safe side and citing its section. Nothing here does I/O except
`load_emulator_config`, which reads the one file it is given.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal[
    "engine_overloaded",  # 429 engine_overloaded_error + Retry-After
    "rate_limit",  # 429 rate_limit_reached_error + Retry-After
    "quota",  # 429 exceeded_current_quota_error, no Retry-After (must not be retried)
    "server_error",  # 500 server_error
    "server_unavailable",  # 503 server_unavailable
    "gateway_timeout",  # 504 nginx HTML page
    "payload_too_large",  # 413
    "content_filter",  # 400 content_filter before generation
    "content_filter_mid",  # content_filter error after `after_chunks` stream chunks
    "slow_first_byte",  # wait `delay_ms` before the first byte
    "slow_chunks",  # wait `delay_ms` between stream chunks
    "cut",  # drop the connection after `after_chunks` stream chunks
]


MIB = 1024 * 1024
# §9 [O] CB, DOCS-OLD, HC: "at most 1000 files per user, 100 MB per file, 10 GB in total".
# Whether "MB" means 10^6 or 2^20 bytes is not documented; the emulator takes 2^20.
DEFAULT_MAX_FILES = 1000
DEFAULT_MAX_FILE_BYTES = 100 * MIB
DEFAULT_MAX_TOTAL_BYTES = 10 * 1024 * MIB


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FaultRule(_Frozen):
    """One fault: which requests it hits (filters, then `every` or `probability`) and how."""

    kind: FaultKind
    # Hit every Nth matching request (N, 2N, ...). When set, `probability` is ignored.
    every: int | None = Field(default=None, ge=1)
    # Chance per matching request, drawn from the state's seeded random.Random.
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    path: str | None = None  # only requests whose path starts with this
    model: str | None = None  # only requests for exactly this model name
    delay_ms: int = Field(default=0, ge=0)  # slow_first_byte / slow_chunks
    after_chunks: int = Field(default=2, ge=0)  # cut / content_filter_mid
    retry_after: int = Field(default=1, ge=0)  # seconds, 429 kinds that carry it


class TierLimits(_Frozen):
    """Organisation limits of docs/kimi.md §3; None means unlimited."""

    concurrency: int | None = Field(default=None, ge=1)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    tpd: int | None = Field(default=None, ge=1)
    # The `{uid}<{ak-id}>` of the messages in §2.2.
    uid: str = "emulator-user"
    ak_id: str = "ak-emulator"
    # The `Msh-Gid` header (§1.1 [O-code] MP: "group or tier, e.g. enterprise-tier-5").
    gid: str = "enterprise-tier-5"
    # §2.2 [3M] HALRO 2026-09 saw a newer wording, "Organization Rate limit exceeded, please try
    # again after 1 seconds"; [O] docs give the per-dimension messages. Default: the documented.
    wording: Literal["tier", "organization"] = "tier"


class FileSettings(_Frozen):
    """The Files API's limits and the switches docs/kimi.md §9/§17.9 leaves open
    (files_store.py)."""

    max_files: int = Field(default=DEFAULT_MAX_FILES, ge=1)
    max_file_bytes: int = Field(default=DEFAULT_MAX_FILE_BYTES, ge=1)
    max_total_bytes: int = Field(default=DEFAULT_MAX_TOTAL_BYTES, ge=1)
    # §9 [O]: the 2024-25 service took only `file-extract` ("Invalid purpose: only 'file-extract'
    # accepted"); OAS 2026 adds image, video, batch. Default: the 2026 set.
    only_file_extract: bool = False
    # §9/§17.9 [?]: a good file's `status` is "ok" in every capture ([O] CB, [3M]); the OAS
    # example says "ready". Default: "ok".
    ok_status: Literal["ok", "ready"] = "ok"
    # §2.2 [O]: the file-count message of the docs ("The number of files you have uploaded
    # exceeded the max file count {N}, …") or the help center's "Too many uploaded files".
    file_count_message: Literal["documented", "help_center"] = "documented"


class AnthropicSwitches(_Frozen):
    """Switches of the two Anthropic faces (anthropic_face.py)."""

    # §14 says the platform route sends no `ping`; nothing says whether Kimi Code does, so a
    # `ping` after message_start on /coding is opt-in (default: none, like the platform).
    coding_ping: bool = False
    # docs/kimi.md §F2.11, [3M] kimi-cli #1449 / cc-switch #2941: Kimi Code answers 400 to
    # Claude Code's `tool_reference` blocks. Off: they are read as text.
    reject_tool_reference: bool = True
    # docs/kimi.md §18.7, §2.3 [3M] (one third-party report, wording not captured; no public
    # source): with thinking on, an assistant turn that called tools and is replayed without
    # its thinking block is refused with a 400, on both Anthropic faces. Off by default.
    require_replayed_thinking: bool = False
    # §13.3 [3M] HERMES PR #18898 (a third party; no public source): Kimi Code refuses thinking
    # blocks not replayed intact. The emulator checks its own signatures there; off: any
    # signature passes (a real Kimi signature cannot be checked offline anyway).
    verify_signatures: bool = True


class Prices(_Frozen):
    """USD per million tokens, used to draw the balance down (§11, §12 cache-hit price)."""

    input_per_mtok: Decimal = Decimal("0.60")
    cached_input_per_mtok: Decimal = Decimal("0.15")
    output_per_mtok: Decimal = Decimal("2.50")


class PrefixCacheSettings(_Frozen):
    """Kimi's automatic context cache (prompt_cache.py). §12 [O]: a stable prefix is cached and
    reported as `cached_tokens`; no block size, minimum or lifetime is documented, so the block is
    1 token (no rounding) and the memory is the last `entries_per_key` prompts per key and model."""

    block_tokens: int = Field(default=1, ge=1)
    entries_per_key: int = Field(default=64, ge=1)
    # §5.1/§12 [O]: `prompt_cache_key` "raises the hit rate", so requests naming different
    # client cache keys (`prompt_cache_key`, or `metadata.user_id` on the Anthropic faces,
    # §13.1) do not share one here: the strict side, so a client or gateway that changes its
    # key between turns is seen to lose the cache. Off: one cache per API key.
    split_by_cache_key: bool = True


class EmulatorConfig(_Frozen):
    # Accepted keys. Empty means "any key of the product's form": Kimi Code keys start
    # `sk-kimi-` (§1), platform keys are any other `sk-` key. Keys never cross products (§1).
    platform_keys: tuple[str, ...] = ()
    kimi_code_keys: tuple[str, ...] = ()
    # §1/§13.2: Kimi Code admits only approved coding agents by User-Agent. Off by default
    # because tests use generic clients.
    require_coding_agent_ua: bool = False
    coding_agent_user_agents: tuple[str, ...] = (
        "KimiCLI/",
        "claude-cli/",
        "claude-code/",
        "RooCode/",
        "Roo-Code/",
        "Kilo-Code/",
    )
    # Balance (§11): available = cash + voucher; ≤ 0 refuses inference with 429 quota.
    initial_cash_balance: Decimal = Decimal("100")
    initial_voucher_balance: Decimal = Decimal("0")
    prices: Prices = Prices()
    model_prices: dict[str, Prices] = Field(default_factory=dict)
    seed: int = 0
    faults: tuple[FaultRule, ...] = ()
    limits: TierLimits = TierLimits()
    # §5.4 [?]: k2.x default max_completion_tokens is undocumented; used for TPM/TPD accounting.
    default_max_tokens: int = 32768
    # §7.2 [3M] OPENCODE: Kimi Code K3 may stream `reasoning_details`; off = documented shape.
    reasoning_details: bool = False
    # §8.6/§17.13 [?]: older walle rejected `type` beside anyOf/$ref; current walle rewrites.
    # Safe default: reject (a gateway that passes this test works on both servers).
    reject_type_beside_anyof_ref: bool = True
    # §8.4/§17.1 [?]: platform models refusing required/named tool_choice with thinking on;
    # measured on k2.6 only (k3 accepts), k2.5 and k2.7-code unmeasured. Safe default: refuse
    # on all of k2.5-k2.7. Kimi Code's models follow rules.RULES["kimi-code"] instead.
    tool_choice_thinking_rejected: tuple[str, ...] = (
        "kimi-k2.5",
        "kimi-k2.6",
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
    )
    # §4.1/§17.11 [?]: retired models (k2 previews, thinking, moonshot-v1, kimi-latest) 404.
    # Default: still served, as the 2026-08 OAS lists moonshot-v1.
    retired_models_404: bool = False
    # §13.1 [3M] HALRO (kimi-code-subscription-evidence, 2026-09-22): Kimi Code answers an
    # unknown model name with 200 and echoes the name back; §13.4 [O] KCDOCS lists a 404 "Not
    # found the model … or Permission denied". Both Kimi Code faces follow this one field.
    # Default "not_found", the strict side: a client that passes against it also passes against
    # the echoing service, while a mistyped model name still fails in tests.
    kimi_code_unknown_model: Literal["not_found", "accept"] = "not_found"
    # §5.2 [?]: http(s) image URLs; HALRO/KCDOCS say rejected, HC says accepted. Reject.
    reject_http_image_urls: bool = True
    # §4.1/§11: an image sent to a model whose catalog entry has `supports_image_in: false`
    # (moonshot-v1 without -vision-preview, the k2 previews, k2.7-code) is refused. The text
    # is invented: no source quotes Kimi's answer. Off: the image is accepted and ignored.
    reject_images_without_vision: bool = True
    # §5.1/§13.1 [O] OAS: `prompt_cache_key` is "Required for Kimi Code Plan", but no source
    # shows a request refused for lacking it ([O-code] kosong always sends one), and the error
    # text is unknown. Default off; on, the Kimi Code OpenAI face refuses requests without it
    # with an invented message.
    kimi_code_require_prompt_cache_key: bool = False
    files: FileSettings = FileSettings()
    anthropic: AnthropicSwitches = AnthropicSwitches()
    prefix_cache: PrefixCacheSettings = PrefixCacheSettings()


def load_emulator_config(path: str | None) -> EmulatorConfig:
    """Read a YAML file into an EmulatorConfig; None gives the defaults."""
    if path is None:
        return EmulatorConfig()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if data is None:
        return EmulatorConfig()
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the emulator config must be a YAML mapping")
    return EmulatorConfig.model_validate(data)

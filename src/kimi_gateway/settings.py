"""The one place that reads the environment and config files.

Settings come from a YAML file (``--config``) and from environment variables; the environment
overrides the file. Everything is validated once at start into a frozen object that is passed
down (DESIGN.md §4.9). An invalid value fails with a message naming the field and where the
value came from. Nothing else in the package touches ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kimi_gateway.settings_files import FILE_PURPOSES, FilePurpose
from kimi_gateway.settings_ledger import LedgerSettings
from kimi_gateway.settings_reliability import ReasoningMemory, ReliabilitySettings
from kimi_gateway.settings_responses import ResponsesSettings
from kimi_gateway.settings_security import SecuritySettings
from kimi_gateway.settings_server import ServerSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787

# Environment variable names, per field (DESIGN.md §6). The first name is the documented one.
ENV_NAMES: Mapping[str, tuple[str, ...]] = {
    "api_key": ("KIMI_API_KEY", "MOONSHOT_API_KEY"),
    "base_url": ("KIMI_BASE_URL",),
    "region": ("KIMI_REGION",),
    "code_api_key": ("KIMI_CODE_API_KEY",),
    "code_base_url": ("KIMI_CODE_BASE_URL",),
    "default_model": ("KIMI_DEFAULT_MODEL",),
    "temperature": ("KIMI_TEMPERATURE",),
    "max_tokens": ("KIMI_MAX_TOKENS",),
    "host": ("KIMI_GATEWAY_HOST",),
    "port": ("KIMI_GATEWAY_PORT",),
    "master_key": ("KIMI_GATEWAY_MASTER_KEY",),
    "data_dir": ("KIMI_GATEWAY_DATA_DIR",),
    "database_url": ("KIMI_GATEWAY_DATABASE_URL",),
    "log_level": ("KIMI_GATEWAY_LOG_LEVEL",),
    "anthropic_base_url": ("KIMI_ANTHROPIC_BASE_URL",),
    "anthropic_route": ("KIMI_GATEWAY_ANTHROPIC_ROUTE",),
    "report_model": ("KIMI_GATEWAY_REPORT_MODEL",),
    "upstream_stream": ("KIMI_GATEWAY_UPSTREAM_STREAM",),
    "upstream_stream_max_tokens": ("KIMI_GATEWAY_UPSTREAM_STREAM_MAX_TOKENS",),
    "message_memo_bytes": ("KIMI_GATEWAY_MESSAGE_MEMO_BYTES",),
    "max_body_bytes": ("KIMI_GATEWAY_MAX_BODY_BYTES",),
    "max_tools": ("KIMI_GATEWAY_MAX_TOOLS",),
    "connect_timeout": ("KIMI_GATEWAY_CONNECT_TIMEOUT",),
    "first_byte_timeout": ("KIMI_GATEWAY_FIRST_BYTE_TIMEOUT",),
    "idle_timeout": ("KIMI_GATEWAY_IDLE_TIMEOUT",),
    "total_timeout": ("KIMI_GATEWAY_TOTAL_TIMEOUT",),
    "access_log": ("KIMI_GATEWAY_ACCESS_LOG",),
    "models_cache_seconds": ("KIMI_GATEWAY_MODELS_CACHE_SECONDS",),
    "keys_refresh_seconds": ("KIMI_GATEWAY_KEYS_REFRESH_SECONDS",),
    "redis_url": ("KIMI_GATEWAY_REDIS_URL",),
}

LEGACY_PLATFORM = "platform"  # the upstream entry KIMI_API_KEY makes: faces platform(_anthropic)
LEGACY_CODE = "code"  # the entry KIMI_CODE_API_KEY makes: faces code_openai, code_anthropic


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RouteConfig(_Frozen):
    """Where one client-facing model name goes; omitted fields take routing's defaults (the
    upstream by the client's dialect and which keys exist, the model id unchanged).
    ``upstream``: a face (``platform_anthropic``) or an ``upstreams`` entry, checked at start."""

    upstream: str | None = None
    model: str | None = None


class UpstreamConfig(_Frozen):
    """One entry of ``upstreams:``. ``kind`` picks the implementation (``kimi_platform``,
    ``kimi_code``, ``openai_compatible``); ``options`` are the kind's own, checked by it when
    the gateway starts. The key comes from the environment variable ``api_key_env`` (or, less
    safely, ``api_key`` in the file)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=64)
    kind: str
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    models: dict[str, str] = Field(default_factory=dict)  # client model name → upstream id
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _key_from_environment(self) -> UpstreamConfig:
        if self.api_key_env is None:
            return self
        if self.api_key is not None:
            raise ValueError("give api_key or api_key_env, not both")
        value = os.environ.get(self.api_key_env)
        if not value:
            raise ValueError(f"environment variable {self.api_key_env} is not set")
        object.__setattr__(self, "api_key", SecretStr(value))
        return self


class ClaudeModels(_Frozen):
    """Kimi models that Claude model families map to (any name containing the family word).

    None: chosen by which product has a key (Open Platform models, else Kimi Code's)."""

    opus: str | None = None
    sonnet: str | None = None
    haiku: str | None = None


class SamplingOverrideConfig(_Frozen):
    """A per-model exception to Kimi's sampling rule (``model`` exact or an fnmatch pattern)."""

    model: str
    param: Literal["temperature", "top_p", "n", "presence_penalty", "frequency_penalty"]
    action: Literal["omit", "force", "clamp", "pass"]
    value: float | None = None
    low: float = 0.0
    high: float = 1.0


class QuirkSettings(_Frozen):
    """How the gateway fixes requests Kimi would refuse (README "Kimi fix-ups"). The defaults
    are the safe side: never send what Kimi is known to reject, never drop without saying so."""

    strict: bool = False  # every change of meaning becomes a 400 naming it
    fixed_sampling: Literal["omit", "force"] = "omit"
    sampling_overrides: tuple[SamplingOverrideConfig, ...] = ()
    n_with_low_temperature: Literal["fan_out", "raise_temperature", "reject"] = "fan_out"
    min_temperature_for_n: float = Field(default=0.3, ge=0, le=1)
    n_on_single_choice_models: Literal["fan_out", "omit"] = "fan_out"
    forced_tool_choice: Literal["disable_thinking", "nudge", "reject"] = "disable_thinking"
    nudge_text: str = "Please select a tool to handle the current issue."
    nudge_named_text: str = "Please use the {name} tool to handle the current issue."
    missing_reasoning: Literal["placeholder", "disable_thinking", "reject"] = "placeholder"
    reasoning_placeholder: str = " "
    stop_overflow: Literal["enforce", "truncate", "reject"] = "enforce"
    empty_tool_result_text: str = "(empty)"
    empty_user_message_text: str = "(empty)"
    trim_tools: bool = False
    derive_prompt_cache_key: bool = True
    clamp_max_tokens_to_context: bool = True
    max_tokens_floor: int = Field(default=1024, ge=1)
    effort_budget_low: int = Field(default=4096, ge=0)
    effort_budget_high: int = Field(default=32768, ge=0)
    file_purposes: dict[str, FilePurpose] = Field(default_factory=FILE_PURPOSES.copy)
    # Issue 9 items 4, 5, 7 (engine/forced_tools.py, engine/hidden_thinking.py,
    # upstreams/kimi/quirks_thinking.py): Kimi's thinking shown to Anthropic clients that did
    # not ask for it; re-asks for a forced tool call the reply lacks; Anthropic thinking blocks
    # Kimi did not sign (Claude's) dropped or sent; how many issued signatures are remembered.
    show_unrequested_thinking: bool = False
    forced_tool_retries: int = Field(default=1, ge=0, le=5)
    forced_tool_reask_text: str = "You must call one of the tools now; answer with a tool call."
    forced_tool_reask_named_text: str = "You must call the {name} tool now; answer with that call."
    foreign_thinking: Literal["unsigned", "drop", "keep"] = "unsigned"
    remembered_signatures: int = Field(default=50_000, ge=0)
    schema_memo_bytes: int = Field(default=8 << 20, ge=0)  # tool schemas made MFJS; 0: off
    remember_reasoning: ReasoningMemory = ReasoningMemory()  # issue 9 item 6


class KeyConfig(_Frozen):
    """A gateway key declared in the config file (keys made by ``keys create`` live in the DB).

    Give the sha256 hex of the key rather than the key itself where you can."""

    # Shown in the access log as config:NAME: no control characters (ledger/keys.py check_name).
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]+$")
    key: SecretStr | None = None
    key_sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$")
    models: tuple[str, ...] = ()  # allowed model names; empty = all


def _field(default: Any, name: str, description: str, **constraints: Any) -> Any:
    """A field readable from YAML under ``name`` and from its environment variables."""
    return Field(
        default,
        validation_alias=AliasChoices(name, *ENV_NAMES[name]),
        description=description,
        **constraints,
    )


class Settings(BaseSettings):
    """Validated, frozen configuration of one gateway process."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        case_sensitive=True,
        env_ignore_empty=True,
    )

    api_key: SecretStr | None = _field(None, "api_key", "Open Platform key")
    base_url: str | None = _field(None, "base_url", "Open Platform base URL override")
    region: Literal["global", "cn"] = _field("global", "region", "Open Platform region")
    code_api_key: SecretStr | None = _field(None, "code_api_key", "Kimi Code key")
    code_base_url: str | None = _field(None, "code_base_url", "Kimi Code base URL override")
    default_model: str = _field("kimi-k2.6", "default_model", "model for requests naming none")
    temperature: float | None = _field(None, "temperature", "default temperature")
    max_tokens: int | None = _field(None, "max_tokens", "default max output tokens")
    host: str = _field(DEFAULT_HOST, "host", "listen address")
    port: int = _field(DEFAULT_PORT, "port", "listen port")
    master_key: SecretStr | None = _field(None, "master_key", "admin API key")
    data_dir: Path | None = _field(None, "data_dir", "where the SQLite ledger lives")
    database_url: str | None = _field(None, "database_url", "SQLAlchemy URL of the ledger")
    log_level: Literal["debug", "info", "warning", "error"] = _field(
        "info", "log_level", "log level"
    )
    anthropic_base_url: str | None = _field(
        None, "anthropic_base_url", "Open Platform Anthropic route base URL override"
    )
    # Routing (README "Routing"): YAML only.
    routes: dict[str, RouteConfig] = Field(default_factory=dict)
    claude_models: ClaudeModels = ClaudeModels()
    anthropic_route: Literal["native", "translate"] = _field(
        "native", "anthropic_route", "Kimi's Anthropic route (native) or OpenAI face (translate)"
    )
    report_model: Literal["requested", "upstream"] = _field(
        "requested", "report_model", "which model name replies report"
    )
    upstream_stream: Literal["auto", "always", "match"] = _field(
        "auto", "upstream_stream", "stream from Kimi unless max_tokens bounds it; always; as asked"
    )
    upstream_stream_max_tokens: int = _field(
        1024, "upstream_stream_max_tokens", "auto: longest reply asked for in one body", ge=0
    )
    # Memory for messages parsed before, looked up when resent (dialects/message_memo.py); 0: off
    message_memo_bytes: int = _field(32 << 20, "message_memo_bytes", "parsed-message memo", ge=0)
    keys: tuple[KeyConfig, ...] = ()
    upstreams: tuple[UpstreamConfig, ...] = ()  # YAML only; more upstreams by name
    quirks: QuirkSettings = QuirkSettings()  # YAML only
    # Limits on input and time (seconds).
    max_body_bytes: int = _field(32 * 1024 * 1024, "max_body_bytes", "largest request body", ge=1)
    max_tools: int = _field(512, "max_tools", "most tools one request may offer", ge=0)
    connect_timeout: float = _field(10.0, "connect_timeout", "upstream connect timeout", gt=0)
    first_byte_timeout: float = _field(
        300.0, "first_byte_timeout", "wait for upstream headers", gt=0
    )
    idle_timeout: float = _field(
        300.0, "idle_timeout", "longest pause between upstream chunks", gt=0
    )
    total_timeout: float = _field(3600.0, "total_timeout", "longest upstream call", gt=0)
    access_log: str = _field("-", "access_log", "'-' for stderr, 'off', or a file path")
    models_cache_seconds: float = _field(
        300.0, "models_cache_seconds", "GET /v1/models cache", ge=0
    )
    keys_refresh_seconds: float = _field(
        5.0, "keys_refresh_seconds", "gateway key reload period", gt=0
    )
    # Retries, breaker, limits, fallbacks, shutdown (settings_reliability.py); YAML only.
    reliability: ReliabilitySettings = ReliabilitySettings()
    # The /v1/responses face: store, TTL, reasoning sealing key (settings_responses.py); YAML.
    responses: ResponsesSettings = ResponsesSettings()
    redis_url: str | None = _field(None, "redis_url", "Redis shared by replicas (limits, breaker)")
    # The usage ledger, prices and budgets (settings_ledger.py); YAML only.
    ledger: LedgerSettings = LedgerSettings()
    # Connection and request limits, endpoint access (settings_security.py); YAML only.
    security: SecuritySettings = SecuritySettings()
    # Upstream pool, open-file limit, worker processes (settings_server.py); YAML only.
    server: ServerSettings = ServerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: the environment overrides the file (passed as init values).
        return (env_settings, init_settings)

    @property
    def has_upstream_key(self) -> bool:
        """Whether any upstream is configured (else the gateway runs on the emulator)."""
        return self.api_key is not None or self.code_api_key is not None or bool(self.upstreams)

    def upstream_entries(self) -> tuple[UpstreamConfig, ...]:
        """Every upstream entry: what KIMI_API_KEY / KIMI_CODE_API_KEY (and their base URLs and
        region) describe, as entries ``platform`` and ``code``, then ``upstreams:``. An entry of
        ``upstreams:`` with the same name replaces the environment's."""
        named = {entry.name for entry in self.upstreams}
        legacy: list[UpstreamConfig] = []
        if self.api_key is not None and LEGACY_PLATFORM not in named:
            options: dict[str, Any] = {"region": self.region}
            if self.anthropic_base_url:
                options["anthropic_base_url"] = self.anthropic_base_url
            legacy.append(
                UpstreamConfig(
                    name=LEGACY_PLATFORM,
                    kind="kimi_platform",
                    base_url=self.base_url,
                    api_key=self.api_key,
                    options=options,
                )
            )
        if self.code_api_key is not None and LEGACY_CODE not in named:
            legacy.append(
                UpstreamConfig(
                    name=LEGACY_CODE,
                    kind="kimi_code",
                    base_url=self.code_base_url,
                    api_key=self.code_api_key,
                )
            )
        return (*legacy, *self.upstreams)

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        for key in self.keys:
            if (key.key is None) == (key.key_sha256 is None):
                raise ValueError(f"keys: {key.name!r} needs exactly one of key, key_sha256")
        seen: set[str] = set()
        for index, entry in enumerate(self.upstreams):
            if entry.name in seen:
                raise ValueError(f"upstreams[{index}] ({entry.name!r}): name is used twice")
            seen.add(entry.name)
        return self

    def resolved_data_dir(self) -> Path:
        """``data_dir``, else the per-user data directory (XDG_DATA_HOME, ~/.local/share)."""
        if self.data_dir is not None:
            return self.data_dir
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "kimi-gateway"

    def resolved_database_url(self) -> str:
        """``database_url``, else SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.resolved_data_dir() / 'kimi-gateway.db'}"


class SettingsError(Exception):
    """Configuration is invalid; the message names each bad field and its source."""


def load_settings(config_file: str | Path | None = None) -> Settings:
    """Read the YAML file (if any) and the environment into a validated Settings."""
    file_data = _read_yaml(Path(config_file)) if config_file else {}
    try:
        return Settings(**file_data)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, config_file)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"config file {path} is not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"config file {path} must hold a mapping at the top level")
    return loaded


def _describe(exc: ValidationError, config_file: str | Path | None) -> str:
    lines = ["invalid configuration:"]
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        name = _field_name(loc[0]) if loc else "?"
        where = _source_of(name, loc[0] if loc else "", config_file)
        path = ".".join([name, *loc[1:]])
        lines.append(f"  - {path} (from {where}): {err['msg']}")
    return "\n".join(lines)


def _field_name(loc0: str) -> str:
    for name, envs in ENV_NAMES.items():
        if loc0 == name or loc0 in envs:
            return name
    return loc0


def _source_of(name: str, loc0: str, config_file: str | Path | None) -> str:
    for env in ENV_NAMES.get(name, ()):
        if os.environ.get(env):
            return f"environment variable {env}"
    if config_file is not None:
        return f"config file {config_file}"
    return "defaults"

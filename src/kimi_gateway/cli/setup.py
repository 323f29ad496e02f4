"""``kimi-gateway setup claude-code|openclaw|codex``: what each client needs to reach the gateway.

Each command prints (or with ``--write`` merges into the client's own file) the environment or
config in that client's real format, as established by running the real clients against
127.0.0.1 (docs/kimi.md §F1). Rendering is pure (``claude_code_env``,
``openclaw_config``, codex_config.py, the ``merge_*`` functions); the only I/O here is
reading and atomically rewriting the one file a client reads. Nothing in this module talks to
the gateway or to Kimi.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import orjson
import typer

from kimi_gateway.cli import codex_config
from kimi_gateway.settings import Settings, SettingsError, load_settings

# Stands in for a gateway key when --key is not given. It has no spaces, so the printed exports
# stay valid shell, and it names the command that makes a real key.
KEY_PLACEHOLDER = "PASTE-KEY-FROM-kimi-gateway-keys-create"
DEFAULT_PROVIDER = "kimi-gateway"
# Kimi K2.5/K2.6 and Kimi Code models have a 256k (262,144-token) window (docs/kimi.md §4.1).
CONTEXT_WINDOW = 262_144
# Output cap OpenClaw asks for; Kimi allows up to the window minus the prompt (docs/kimi.md §4.1),
# 32k matches what Claude Code itself requests (docs/kimi.md §F1).
MAX_OUTPUT_TOKENS = 32_000

setup_app = typer.Typer(
    name="setup",
    help="Print (or --write) what Claude Code, OpenClaw or Codex needs to use the gateway.",
    no_args_is_help=True,
)


class SetupError(Exception):
    """A client config file cannot be read or merged; nothing was written."""


@dataclass(frozen=True)
class Target:
    """Where a client should send its requests, and as whom."""

    base_url: str
    key: str
    model: str

    @property
    def key_is_placeholder(self) -> bool:
        return self.key == KEY_PLACEHOLDER


# --- Claude Code ------------------------------------------------------------------------------


def claude_code_env(target: Target, small_model: str | None = None) -> dict[str, str]:
    """The environment Claude Code needs (docs/kimi.md §F1), in a stable order."""
    small = small_model or target.model
    return {
        "ANTHROPIC_BASE_URL": target.base_url,
        # AUTH_TOKEN (sent as `Authorization: Bearer`) rather than API_KEY: Claude Code uses it
        # without the interactive "use this API key?" prompt; the gateway accepts both headers.
        "ANTHROPIC_AUTH_TOKEN": target.key,
        "ANTHROPIC_MODEL": target.model,
        # The background model (titles, summaries); DEFAULT_HAIKU is its newer name.
        "ANTHROPIC_SMALL_FAST_MODEL": small,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": small,
        # No telemetry, error reporting, auto-update or other calls beyond the base URL.
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }


def render_exports(env: dict[str, str]) -> str:
    """POSIX shell ``export`` lines, quoted so ``eval "$(kimi-gateway setup …)"`` is safe."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def merge_claude_settings(existing: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """``~/.claude/settings.json`` with our variables set in its ``env`` block, all else kept."""
    current = existing.get("env", {})
    if not isinstance(current, dict):
        raise SetupError('"env" in the Claude Code settings is not an object')
    return {**existing, "env": {**current, **env}}


# --- OpenClaw ---------------------------------------------------------------------------------

OpenClawApi = Literal["anthropic", "openai"]


def openclaw_config(target: Target, api: OpenClawApi, provider: str) -> dict[str, Any]:
    """The OpenClaw config fragment: one custom provider and it as the default model."""
    # OpenClaw appends /chat/completions to an openai-completions baseUrl and /v1/messages to an
    # anthropic-messages one (docs/kimi.md §F1).
    root = target.base_url.rstrip("/")
    base_url = f"{root}/v1" if api == "openai" else root
    model = {
        "id": target.model,
        "name": f"{target.model} (kimi-gateway)",
        "reasoning": True,
        "input": ["text", "image"],
        # The gateway keeps the real, cache-aware cost ledger; OpenClaw's estimate stays at 0.
        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
        "contextWindow": CONTEXT_WINDOW,
        "maxTokens": MAX_OUTPUT_TOKENS,
    }
    return {
        "models": {
            "providers": {
                provider: {
                    "baseUrl": base_url,
                    "apiKey": target.key,
                    "api": "openai-completions" if api == "openai" else "anthropic-messages",
                    "models": [model],
                }
            }
        },
        "agents": {"defaults": {"model": {"primary": f"{provider}/{target.model}"}}},
    }


def merge_openclaw(
    existing: dict[str, Any], fragment: dict[str, Any], provider: str
) -> dict[str, Any]:
    """An OpenClaw config with ``fragment`` merged in and every other setting kept.

    Our provider entry replaces an earlier one of the same id whole (a stale baseUrl, api or
    models list must not linger); other providers, agents and settings stay, and so does
    ``agents.defaults.model.fallbacks`` beside the new primary.
    """
    models = existing.get("models", {})
    providers = models.get("providers", {}) if isinstance(models, dict) else None
    if not isinstance(providers, dict):
        raise SetupError('"models.providers" in the OpenClaw config is not an object')
    others = {name: entry for name, entry in providers.items() if name != provider}
    return _deep_merge({**existing, "models": {**models, "providers": others}}, fragment)


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    # Objects merge key by key; any other value (or an object over a non-object) replaces.
    merged = dict(base)
    for name, value in update.items():
        old = merged.get(name)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[name] = _deep_merge(old, value)
        else:
            merged[name] = value
    return merged


# --- files ------------------------------------------------------------------------------------


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``, ``{}`` if the file does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SetupError(f"cannot read {path}: {exc.strerror}") from None
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # OpenClaw also reads JSON5 (comments, trailing commas); we cannot rewrite that without
        # losing the comments, so we leave it alone.
        raise SetupError(
            f"{path} is not plain JSON (JSON5 comments?); not touching it. "
            "Run without --write and paste the printed block in yourself."
        ) from None
    if not isinstance(data, dict):
        raise SetupError(f"{path} does not hold a JSON object; not touching it")
    return data


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` in one rename; a new file is readable by its owner only."""
    write_bytes_atomic(path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode())


def write_bytes_atomic(path: Path, body: bytes) -> None:
    """Replace ``path`` with ``body`` in one rename; a new file is readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- commands ---------------------------------------------------------------------------------

BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="gateway URL [default: from settings]")
]
KeyOpt = Annotated[
    str | None, typer.Option("--key", help="gateway key (see `kimi-gateway keys create`)")
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="model [default: from settings]")]
WriteOpt = Annotated[bool, typer.Option("--write", help="merge into the client's config file")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="gateway YAML config", envvar="KIMI_GATEWAY_CONFIG"),
]


@setup_app.command("claude-code")
def claude_code(
    base_url: BaseUrlOpt = None,
    key: KeyOpt = None,
    model: ModelOpt = None,
    small_model: Annotated[
        str | None, typer.Option("--small-model", help="background model [default: --model]")
    ] = None,
    write: WriteOpt = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="[default: ~/.claude/settings.json]")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Claude Code: shell exports, or with --write the env block of ~/.claude/settings.json."""
    target = _target(config, base_url, key, model)
    env = claude_code_env(target, small_model)
    if not write:
        typer.echo(f"# Claude Code -> kimi-gateway at {target.base_url}")
        typer.echo(render_exports(env), nl=False)
    else:
        path = file or Path.home() / ".claude" / "settings.json"
        _merge_file(path, lambda old: merge_claude_settings(old, env))
        typer.echo(f"wrote the env block of {path}: {', '.join(env)}")
    _warn_placeholder(target)


@setup_app.command("openclaw")
def openclaw(
    base_url: BaseUrlOpt = None,
    key: KeyOpt = None,
    model: ModelOpt = None,
    api: Annotated[
        str, typer.Option("--api", help="provider type: anthropic (Messages) or openai (Chat)")
    ] = "anthropic",
    provider: Annotated[str, typer.Option("--provider", help="provider id")] = DEFAULT_PROVIDER,
    write: WriteOpt = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="[default: ~/.openclaw/openclaw.json]")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """OpenClaw: a models.providers entry and the default model, printed or merged."""
    if api not in ("anthropic", "openai"):
        _fail(f"--api must be anthropic or openai, not {api!r}")
    target = _target(config, base_url, key, model)
    fragment = openclaw_config(target, "openai" if api == "openai" else "anthropic", provider)
    if not write:
        typer.echo(orjson.dumps(fragment, option=orjson.OPT_INDENT_2).decode())
        typer.echo(
            "kimi-gateway: merge this into ~/.openclaw/openclaw.json (or $OPENCLAW_CONFIG_PATH), "
            "or rerun with --write.",
            err=True,
        )
    else:
        path = file or Path.home() / ".openclaw" / "openclaw.json"
        _merge_file(path, lambda old: merge_openclaw(old, fragment, provider))
        typer.echo(f"wrote provider {provider!r} and agents.defaults.model.primary to {path}")
    _warn_placeholder(target)


@setup_app.command("codex")
def codex(
    base_url: BaseUrlOpt = None,
    key: KeyOpt = None,
    model: ModelOpt = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="have Codex read the key from this variable instead"),
    ] = None,
    provider: Annotated[str, typer.Option("--provider", help="provider id")] = DEFAULT_PROVIDER,
    write: WriteOpt = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="[default: $CODEX_HOME or ~/.codex/config.toml]")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Codex CLI: a model provider on /v1/responses, printed or merged into its config.toml."""
    target = _target(config, base_url, key, model)
    ours = codex_config.fragment(target.base_url, target.key, target.model, provider, key_env)
    if not write:
        typer.echo(codex_config.dumps(ours), nl=False)
        typer.echo(
            "kimi-gateway: merge this into ~/.codex/config.toml, or rerun with --write.", err=True
        )
    else:
        path = file or codex_home() / "config.toml"
        _write_codex(path, ours, provider)
        typer.echo(
            f"wrote model provider {provider!r} (wire_api responses, {target.base_url}/v1), "
            f"model {target.model!r} and the offline switches to {path}"
        )
    if key_env is not None:
        typer.echo(f"kimi-gateway: Codex reads the key from ${key_env}; export it.", err=True)
    _warn_placeholder(target)


def codex_home() -> Path:
    """Where Codex keeps its config: $CODEX_HOME, else ~/.codex."""
    home = os.environ.get("CODEX_HOME")
    return Path(home) if home else Path.home() / ".codex"


def _write_codex(path: Path, ours: dict[str, Any], provider: str) -> None:
    try:
        existing = codex_config.read(path)
    except ValueError as exc:
        _fail(str(exc))
    merged = codex_config.merge(existing, ours, provider)
    try:
        if existing:
            backup = path.with_name(path.name + ".bak")
            backup.write_bytes(path.read_bytes())
            typer.echo(f"kept the previous file as {backup} (comments are not carried over)")
        write_text_atomic(path, codex_config.dumps(merged))
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror}")


def _target(
    config: Path | None, base_url: str | None, key: str | None, model: str | None
) -> Target:
    settings = _settings(config)
    return Target(
        base_url=(base_url or _default_base_url(settings)).rstrip("/"),
        key=key or KEY_PLACEHOLDER,
        model=model or settings.default_model,
    )


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except SettingsError as exc:
        _fail(str(exc))


def _default_base_url(settings: Settings) -> str:
    # A wildcard listen address is not something a client can connect to; loopback is.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _merge_file(path: Path, merge: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    try:
        write_json_atomic(path, merge(read_json_object(path)))
    except SetupError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror}")


def _warn_placeholder(target: Target) -> None:
    if target.key_is_placeholder:
        typer.echo(
            f"kimi-gateway: no --key given, so the key is the placeholder {KEY_PLACEHOLDER}.\n"
            "  Create a key with `kimi-gateway keys create` and pass it with --key (a gateway on\n"
            "  127.0.0.1 with no keys made accepts any key, the placeholder included).",
            err=True,
        )


def _fail(message: str) -> NoReturn:
    typer.echo(f"kimi-gateway setup: {message}", err=True)
    raise typer.Exit(2)

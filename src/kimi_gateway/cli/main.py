"""The ``kimi-gateway`` command: parses arguments and hands off; no logic of its own."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kimi_gateway.cli.setup import setup_app
from kimi_gateway.settings import SettingsError, load_settings

app = typer.Typer(
    name="kimi-gateway",
    help="Run Kimi behind OpenAI- and Anthropic-speaking clients.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(setup_app)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file", envvar="KIMI_GATEWAY_CONFIG"),
]


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
) -> None:
    """Run the gateway (with no Kimi key configured: against the built-in emulator)."""
    try:
        settings = load_settings(config)
    except SettingsError as exc:
        typer.echo(f"kimi-gateway: {exc}", err=True)
        raise typer.Exit(2) from None
    from kimi_gateway.emulator.server import run_emulator

    listen_host = host or settings.host
    listen_port = port or settings.port
    banner = (
        "!" * 78 + "\n"
        "!! kimi-gateway: the gateway server is not built yet; `serve` runs the OFFLINE\n"
        "!! KIMI EMULATOR on http://{h}:{p} (OpenAI face /v1, Anthropic /anthropic,\n"
        "!! Kimi Code /coding/v1). Nothing here reaches the real Kimi.\n" + "!" * 78
    ).format(h=listen_host, p=listen_port)
    typer.echo(banner, err=True)
    run_emulator(listen_host, listen_port, None)


@app.command()
def emulate(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="emulator YAML")] = None,
    host: Annotated[str, typer.Option(help="listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="listen port")] = 8788,
) -> None:
    """Run the offline Kimi emulator (both products, both dialects)."""
    from kimi_gateway.emulator.server import run_emulator

    typer.echo(f"kimi-gateway emulator on http://{host}:{port} (offline; not the real Kimi)")
    run_emulator(host, port, str(config) if config else None)


def main() -> None:
    sys.exit(app())

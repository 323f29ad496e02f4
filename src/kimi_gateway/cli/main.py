"""The ``kimi-gateway`` command: parses arguments and hands off; no logic of its own."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kimi_gateway.cli import ledger as ledger_cli
from kimi_gateway.cli.keys import keys_app
from kimi_gateway.cli.setup import setup_app
from kimi_gateway.settings import SettingsError, load_settings

app = typer.Typer(
    name="kimi-gateway",
    help="Run Kimi behind OpenAI- and Anthropic-speaking clients.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(setup_app)
app.add_typer(keys_app)
app.command()(ledger_cli.prices)
app.command()(ledger_cli.usage)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file", envvar="KIMI_GATEWAY_CONFIG"),
]


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=256, help="processes sharing the port")
    ] = None,
) -> None:
    """Run the gateway (with no Kimi key configured: against the built-in emulator)."""
    try:
        settings = load_settings(config)
    except SettingsError as exc:
        typer.echo(f"kimi-gateway: {exc}", err=True)
        raise typer.Exit(2) from None
    from kimi_gateway.server.runner import StartRefused
    from kimi_gateway.server.runner import serve as run_gateway

    pairs = (("host", host), ("port", port))
    overrides: dict[str, object] = {k: v for k, v in pairs if v is not None}
    if workers is not None:
        overrides["server"] = settings.server.model_copy(update={"workers": workers})
    try:
        status = run_gateway(settings.model_copy(update=overrides), announce=_announce)
    except StartRefused as exc:
        typer.echo(f"kimi-gateway: {exc}", err=True)
        raise typer.Exit(2) from None
    if status:
        raise typer.Exit(status)


@app.command()
def chaos(
    reduced: Annotated[bool, typer.Option(help="the quick form CI runs")] = False,
    redis_url: Annotated[
        str | None, typer.Option(help="Redis for the two-replica scenarios ('' to skip)")
    ] = "redis://127.0.0.1:6379/0",
) -> None:
    """Run the chaos suite on 127.0.0.1: emulator faults and limits under concurrent load."""
    from kimi_gateway.chaos.report import render
    from kimi_gateway.chaos.scenarios import run_all

    reports = run_all(reduced=reduced, redis_url=redis_url or None)
    typer.echo(render(reports))
    if not all(report.passed for report in reports):
        raise typer.Exit(1)


def _announce(text: str) -> None:
    typer.echo(text, err=True)


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

"""``kimi-gateway keys create|list|revoke``: manage gateway keys in the key store.

The plain key is printed once, by ``create``; the store keeps only its hash. A running gateway
picks changes up within ``keys_refresh_seconds``. Parses arguments and hands off to
``ledger/keys.py``; no logic of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from kimi_gateway.ledger.budgets import Budget, parse_budget
from kimi_gateway.ledger.keys import KeyStore, check_name, shown_name
from kimi_gateway.settings import SettingsError, load_settings

keys_app = typer.Typer(
    name="keys", help="Create, list and revoke gateway keys.", no_args_is_help=True
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file", envvar="KIMI_GATEWAY_CONFIG"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


def _store(config: Path | None) -> KeyStore:
    try:
        settings = load_settings(config)
    except SettingsError as exc:
        typer.echo(f"kimi-gateway: {exc}", err=True)
        raise typer.Exit(2) from None
    return KeyStore(settings.resolved_database_url())


@keys_app.command()
def create(
    name: Annotated[str, typer.Argument(help="a name to recognise the key by")],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="allowed model name (repeat; none = all models)"),
    ] = None,
    budget: Annotated[
        list[str] | None,
        typer.Option("--budget", "-b", help="USD budget: 5/day, 100/month or 20/total (repeat)"),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it (it is shown only this once)."""
    try:
        budgets = [parse_budget(text) for text in budget or ()]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--budget") from None
    try:
        name = check_name(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from None
    store = _store(config)
    try:
        record, plain = store.create(name, model or ())
        made = [store.add_budget(record.id, period, usd) for period, usd in budgets]
    finally:
        store.close()
    if as_json:
        limits = [_budget(b) for b in made]
        typer.echo(orjson.dumps({**record.public(), "key": plain, "budgets": limits}).decode())
        return
    typer.echo(plain)
    typer.echo(
        f"created {record.id} ({record.name}); models: {', '.join(record.models) or 'all'}"
        f"; budgets: {', '.join(b.describe() for b in made) or 'none'}."
        " Keep the key now: only its hash is stored.",
        err=True,
    )


@keys_app.command("list")
def list_keys(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    all_keys: Annotated[bool, typer.Option("--all", help="include revoked keys")] = False,
) -> None:
    """List keys (never the keys themselves: id, name, prefix, models, budgets)."""
    store = _store(config)
    try:
        records = store.all() if all_keys else store.active()
        budgets = store.budgets()
    finally:
        store.close()
    limits = {r.id: [b for b in budgets if b.key_id == r.id] for r in records}
    if as_json:
        typer.echo(
            orjson.dumps(
                [{**r.public(), "budgets": [_budget(b) for b in limits[r.id]]} for r in records]
            ).decode()
        )
        return
    for record in records:
        state = "revoked" if record.revoked_at is not None else "active"
        models = ",".join(record.models) or "*"
        spend = ",".join(f"{b.limit_usd.normalize():f}/{b.period}" for b in limits[record.id])
        typer.echo(
            f"{record.id}\t{record.display}\t{state}\t{models}\t{spend or '-'}\t"
            + shown_name(record.name)
        )


def _budget(budget: Budget) -> dict[str, str]:
    return {"id": budget.id, "period": budget.period, "usd": f"{budget.limit_usd.normalize():f}"}


@keys_app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (see `keys list`)")],
    config: ConfigOption = None,
) -> None:
    """Revoke a key by id."""
    store = _store(config)
    try:
        revoked = store.revoke(key_id)
    finally:
        store.close()
    if not revoked:
        typer.echo(f"kimi-gateway: no active key with id {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")

"""``kimi-gateway prices`` and ``kimi-gateway usage``: the price table, and spend and tokens from
the ledger grouped by key, model, day or upstream, with the Kimi balance beside it. Parses
arguments, reads, prints; the queries are ledger/reports.py's.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import orjson
import typer

from kimi_gateway.ledger.db import open_database
from kimi_gateway.ledger.keys import KeyStore
from kimi_gateway.ledger.reports import UsageGroup, usage_report
from kimi_gateway.server.ledger_runtime import price_book
from kimi_gateway.settings import Settings, SettingsError, load_settings

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file", envvar="KIMI_GATEWAY_CONFIG"),
]
_COLUMNS = ("requests", "errors", "input_tokens", "cached_tokens", "output_tokens")
_COLUMNS_2 = ("reasoning_tokens", "cost_usd", "unpriced_requests")


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except SettingsError as exc:
        typer.echo(f"kimi-gateway: {exc}", err=True)
        raise typer.Exit(2) from None


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def prices(config: ConfigOption = None) -> None:
    """Print the price table in force (Kimi's defaults with the config's on top), USD."""
    book = price_book(_settings(config).ledger)
    rows = [
        [
            p.model,
            p.upstream or "*",
            f"{p.cache_hit:f}",
            f"{p.cache_miss:f}",
            f"{p.output:f}",
            p.effective_from.isoformat() if p.effective_from else "-",
            p.source,
        ]
        for p in sorted(book.prices, key=lambda p: (p.model, p.effective_from or date.min))
    ]
    header = ["model", "upstream", "cache hit", "cache miss", "output", "from", "source"]
    typer.echo("USD per million tokens\n" + _table(header, rows))
    fees = [[f.tool, f"{f.per_call:f}", str(f.effective_from or "-")] for f in book.tool_fees]
    typer.echo("\nUSD per built-in tool call\n" + _table(["tool", "per call", "from"], fees))
    typer.echo("\nModels not listed are recorded without a cost and flagged as unpriced.")


def _moment(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{option} takes a date or time, e.g. 2026-12-01") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _key_names(settings: Settings) -> dict[str, str]:
    store = KeyStore(settings.resolved_database_url())
    try:
        return {record.id: record.name for record in store.all()}
    finally:
        store.close()


def _render(groups: list[UsageGroup], by: str, fmt: str, names: dict[str, str]) -> str:
    objects = [group.as_json() for group in groups]
    if by == "key":
        for item in objects:
            item["name"] = names.get(item["group"] or "")
    if fmt == "json":
        return orjson.dumps(objects, option=orjson.OPT_INDENT_2).decode()
    header = [by, *(["name"] if by == "key" else []), *_COLUMNS, *_COLUMNS_2]
    rows = [[str(item[k] if k != by else item["group"]) for k in header] for item in objects]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerows([header, *rows])
        return out.getvalue().rstrip("\n")
    return _table(header, rows) if rows else "no usage recorded in this period"


def _balance_lines(settings: Settings) -> list[str]:
    from kimi_gateway.upstreams.kimi.balance import balances

    lines = []
    for found in asyncio.run(balances(settings.upstream_entries())):
        if found.error is not None:
            lines.append(f"Kimi balance ({found.account}): unavailable ({found.error})")
        else:
            lines.append(
                f"Kimi balance ({found.account}): {found.available} {found.currency} available"
                f" (cash {found.cash}, vouchers {found.voucher})"
            )
    return lines


def usage(
    since: Annotated[str | None, typer.Option(help="from this date/time (UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="before this date/time (UTC)")] = None,
    by: Annotated[Literal["key", "model", "day", "upstream"], typer.Option()] = "model",
    fmt: Annotated[Literal["table", "csv", "json"], typer.Option("--format")] = "table",
    balance: Annotated[bool, typer.Option(help="show the Kimi balance beside spend")] = True,
    config: ConfigOption = None,
) -> None:
    """Requests, tokens and cost from the ledger, grouped; the Kimi balance beside it."""
    settings = _settings(config)
    start, end = _moment(since, "--since"), _moment(until, "--until")
    engine = open_database(settings.resolved_database_url())
    try:
        groups = usage_report(engine, by, start, end)
    finally:
        engine.dispose()
    names = _key_names(settings) if by == "key" else {}
    typer.echo(_render(groups, by, fmt, names))
    if balance:
        # Beside the table; on stderr for csv/json so stdout stays machine-readable.
        err = fmt != "table"
        total = sum((group.cost_usd for group in groups), Decimal(0))
        typer.echo(f"\nspend in this period: ${total.normalize():f}", err=err)
        for line in _balance_lines(settings):
            typer.echo(line, err=err)

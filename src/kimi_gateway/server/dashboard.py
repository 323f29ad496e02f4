"""The dashboard at ``/ui``: a login form for the master key, then one page that draws the
ledger (spend over time, tokens by model, cache-hit ratio, error rate, latency percentiles,
budget left per key, recent requests with their diagnostics).

No key in a URL: ``POST /ui/login`` checks the master key from the form and sets a session
cookie (an expiry signed with HMAC-SHA256 under the master key; HttpOnly, SameSite=Strict,
path /ui), so it dies with the key. ``GET /ui/data`` is the page's JSON. The page and its script
are plain files in ``server/ui/`` (no build step, nothing from a CDN).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from kimi_gateway.ledger.budgets import slot_of
from kimi_gateway.ledger.insights import insights
from kimi_gateway.ledger.prices import from_nano
from kimi_gateway.server.asgi import header, read_body, send_bytes, send_json
from kimi_gateway.server.exchange import Exchange

COOKIE = "kgw_ui"
SESSION_SECONDS = 12 * 3600
_HTML = (b"content-type", b"text/html; charset=utf-8")
_NO_STORE = (b"cache-control", b"no-store")
_FRAME = (b"x-frame-options", b"DENY")


def _page(name: str) -> bytes:
    return resources.files("kimi_gateway.server").joinpath("ui", name).read_bytes()


def _master(ex: Exchange) -> bytes | None:
    key = ex.runtime.settings.master_key
    return key.get_secret_value().encode() if key is not None else None


def _sign(master: bytes, expiry: int) -> str:
    return hmac.new(master, f"ui:{expiry}".encode(), hashlib.sha256).hexdigest()


def _session_ok(ex: Exchange, master: bytes) -> bool:
    cookies = header(ex.scope, b"cookie") or ""
    for part in cookies.split(";"):
        name, _, value = part.strip().partition("=")
        if name != COOKIE:
            continue
        expiry, _, signature = value.partition(".")
        if expiry.isdigit() and int(expiry) > time.time():
            return hmac.compare_digest(signature, _sign(master, int(expiry)))
    return False


async def _html(ex: Exchange, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    await send_bytes(ex.send, status, body, [_HTML, _NO_STORE, _FRAME, *extra])


async def page(ex: Exchange) -> None:
    """GET /ui: the dashboard with a valid session, else the login form."""
    master = _master(ex)
    if master is None:
        await _html(ex, 403, _page("disabled.html"))
    elif _session_ok(ex, master):
        await _html(ex, 200, _page("dashboard.html"))
    else:
        await _html(ex, 200, _page("login.html").replace(b"{{error}}", b""))


async def login(ex: Exchange) -> None:
    """POST /ui/login: the master key from the form → a session cookie, back to /ui."""
    master = _master(ex)
    form = parse_qs((await read_body(ex.scope, ex.receive, 4096)).decode("utf-8", "replace"))
    given = (form.get("key") or [""])[0].encode()
    if master is None or not hmac.compare_digest(
        hashlib.sha256(given).digest(), hashlib.sha256(master).digest()
    ):
        body = _page("login.html").replace(b"{{error}}", b"That is not the master key.")
        await _html(ex, 401, body)
        return
    expiry = int(time.time()) + SESSION_SECONDS
    cookie = f"{COOKIE}={expiry}.{_sign(master, expiry)}; Path=/ui; HttpOnly; SameSite=Strict"
    location = (b"location", b"/ui")
    await send_bytes(ex.send, 303, b"", [location, (b"set-cookie", cookie.encode()), _NO_STORE])


async def logout(ex: Exchange) -> None:
    cookie = f"{COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"
    await send_bytes(ex.send, 303, b"", [(b"location", b"/ui"), (b"set-cookie", cookie.encode())])


async def data(ex: Exchange) -> None:
    """GET /ui/data: the numbers the page draws (session required)."""
    master = _master(ex)
    if master is None or not _session_ok(ex, master):
        await send_json(ex.send, 401, {"error": "log in at /ui first"})
        return
    ledger = ex.runtime.ledger
    if ledger is None:
        await send_json(ex.send, 503, {"error": "the ledger is not running"})
        return
    if ledger.writer is not None:
        await asyncio.to_thread(ledger.writer.flush, 5.0)
    found = await asyncio.to_thread(insights, ledger.database)
    found["budgets"] = await _budgets(ex)
    await send_json(ex.send, 200, found, [_NO_STORE])


async def _budgets(ex: Exchange) -> list[dict[str, Any]]:
    """Every budget with what is left in its current period."""
    ledger = ex.runtime.ledger
    assert ledger is not None
    guard, now = ledger.guard, time.time()
    out = []
    for budget in guard.budgets:
        slot = slot_of(budget, now)
        spent = await guard.counters.spent(slot.name) or 0
        out.append(
            {
                "id": budget.id,
                "scope": budget.key_id or "global",
                "period": budget.period,
                "limit_usd": f"{budget.limit_usd.normalize():f}",
                "left_usd": f"{from_nano(max(0, budget.limit_nano - spent)).normalize():f}",
                "resets_at": slot.resets_at.isoformat() if slot.resets_at else None,
            }
        )
    return out

"""What one generation did, filled in as it goes and handed to the engine's after-hooks once it
has ended (the access log, metrics, the ledger's row, budget settlement). Plain data, no I/O.

The request task only fills fields in; whatever is derived from them (status, cost, the row)
is built later, off the request path (ledger/rows.py in the ledger's writer thread).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kimi_gateway.core.model import Diagnostic, DialectName
from kimi_gateway.core.usage import Usage


@dataclass(slots=True)
class Outcome:
    client: DialectName  # the dialect the client spoke
    model: str = ""  # as the client asked
    key_id: str | None = None
    stream: bool = False  # whether the client asked for a stream
    upstream: str | None = None  # the upstream's name (after routing and any fallback)
    upstream_model: str | None = None
    upstream_request_id: str | None = None  # the upstream's id, for its support
    attempts: int = 0  # upstream calls made (retries and fallbacks count)
    usage: Usage = field(default_factory=Usage)
    usage_seen: bool = False  # whether any usage arrived (a failure before it has none)
    error: str | None = None  # the error kind that ended it; None: it ended well
    diagnostics: tuple[Diagnostic, ...] = ()
    started: float = 0.0  # clock seconds
    first_event: float | None = None  # when the first batch arrived (time to first token)
    ended: float | None = None
    route: str = ""  # the face's route name (chat_completions, messages …)
    request_id: str | None = None  # the gateway's id of the request
    routed_upstream: str | None = None  # where routing sent it (``upstream`` differs: fallback)
    tool_calls: int = 0  # tool calls in the reply, built-in ones included
    builtin_tools: tuple[str, ...] = ()  # names of built-in calls in the reply ($web_search …)
    hold: object | None = None  # what a before-hook reserved (a budget hold), for its after-hook

"""The access log: one JSON line per request, written off the request's critical path.

The request task only puts its finished record on a queue (no logging machinery, no dict built
there); a writer thread turns records into orjson lines and writes them in batches, one write
and one wake-up per batch (issue 5: ledger, metrics and logs stay off the hot path). Fields:
time, request id, key id, method, route, model (as asked), upstream, upstream model, Kimi's
request id, status, latency, tokens, error kind, translation diagnostics. Secrets never reach
it: the record is built from named fields only (no headers, no bodies), and upstream keys are
not in scope where it is built.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

_BATCH_SECONDS = 0.01  # how long the writer lets lines gather after the first one
_STOP = object()


@dataclass(slots=True)
class AccessRecord:
    """What one request did; filled in as the request goes, logged when it ends."""

    request_id: str
    method: str
    route: str
    started: float
    key_id: str | None = None
    model: str | None = None
    upstream: str | None = None
    upstream_model: str | None = None
    upstream_request_id: str | None = None  # Kimi's Msh-Request-Id, for Kimi support
    stream: bool | None = None
    status: int = 0
    error: str | None = None
    input_tokens: int | None = None
    cached_tokens: int | None = None
    output_tokens: int | None = None
    diagnostics: list[str] = field(default_factory=list)

    def line(self, finished: float, now_unix: float) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "ts": round(now_unix, 3),
            "request_id": self.request_id,
            "key_id": self.key_id,
            "method": self.method,
            "route": self.route,
            "model": self.model,
            "upstream": self.upstream,
            "upstream_model": self.upstream_model,
            "stream": self.stream,
            "status": self.status,
            "latency_ms": round((finished - self.started) * 1000, 2),
        }
        if self.input_tokens is not None:
            entry["tokens"] = {
                "input": self.input_tokens,
                "cached": self.cached_tokens,
                "output": self.output_tokens,
            }
        if self.upstream_request_id is not None:
            entry["upstream_request_id"] = self.upstream_request_id
        if self.error is not None:
            entry["error"] = self.error
        if self.diagnostics:
            entry["diagnostics"] = self.diagnostics
        return entry


class AccessLog:
    """Owns the queue, the writer thread and the destination of one app (no module state)."""

    def __init__(self, destination: str) -> None:
        self.enabled = destination != "off"
        self._destination = destination
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # The writer's pause between batches; set to end it early at stop. A lock wait rather
        # than time.sleep: profilers (py-spy) count a thread in nanosleep as busy.
        self._stopping = threading.Event()

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._stopping.clear()
            if self._destination == "-":
                stream, owned = sys.stderr, False
            else:
                stream, owned = open(self._destination, "a", encoding="utf-8"), True  # noqa: SIM115
            self._thread = threading.Thread(
                target=self._run, args=(stream, owned), name="kimi-gateway-access", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def write(self, entry: dict[str, Any]) -> None:
        """Queue one line (an access entry as :meth:`AccessRecord.line` builds it)."""
        if self.enabled:
            self._queue.put(entry)

    def write_record(self, record: AccessRecord, finished: float, now_unix: float) -> None:
        """Queue a finished request's record; its line is built in the writer thread."""
        if self.enabled:
            self._queue.put((record, finished, now_unix))

    def _run(self, stream: Any, owned: bool) -> None:
        try:
            while True:
                items = [self._queue.get()]
                if items[0] is not _STOP:
                    self._stopping.wait(_BATCH_SECONDS)
                    items.extend(self._drain())
                stop = any(item is _STOP for item in items)
                lines = [_line(item) for item in items if item is not _STOP]
                if lines:
                    try:
                        stream.write("".join(lines))
                        stream.flush()
                    except (OSError, ValueError):  # a closed or full destination loses lines
                        pass
                if stop:
                    return
        finally:
            if owned:
                stream.close()

    def _drain(self) -> list[Any]:
        items: list[Any] = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items


def _line(item: Any) -> str:
    if isinstance(item, tuple):
        record, finished, now_unix = item
        item = record.line(finished, now_unix)
    return orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE).decode()

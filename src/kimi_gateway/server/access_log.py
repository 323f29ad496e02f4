"""The access log: one JSON line per request, written off the request's critical path.

The request task only puts its finished record on a queue (no logging machinery, no dict built
there); a writer thread turns records into orjson lines and writes them in batches, one write
and one wake-up per batch (issue 5: ledger, metrics and logs stay off the hot path). Fields:
time, request id, key id, method, route (and, for an unknown route, its path: the query is never
logged), model (as asked), upstream, upstream model, Kimi's request id, status, latency, tokens,
error kind, translation diagnostics. Secrets never reach it: the record is built from named
fields only (no headers, no bodies), and upstream keys are not in scope where it is built.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass
from typing import Any

import orjson

from kimi_gateway.core.outcome import Outcome

# How long the writer lets lines gather after the first one. Each batch wakes the thread and
# takes the GIL from the event loop; at 10 ms the thread cost 12-17 µs of CPU per request
# under load, at 100 ms 6 µs (and the loop's own CPU fell too; 2026-12-05, tr/non-stream, c4).
_BATCH_SECONDS = 0.1
_STOP = object()


@dataclass(slots=True)
class AccessRecord:
    """What one request did; filled in as the request goes, logged when it ends."""

    request_id: str
    method: str
    route: str
    started: float
    key_id: str | None = None
    status: int = 0
    error: str | None = None
    outcome: Outcome | None = None  # what the engine did, for the routes that use it
    path: str | None = None  # only for an unknown route: which URL the client got wrong

    @property
    def upstream(self) -> str | None:
        return self.outcome.upstream if self.outcome is not None else None

    @property
    def tokens(self) -> tuple[int, int, int] | None:
        """(uncached input, cache read, output) once usage was seen."""
        outcome = self.outcome
        if outcome is None or not outcome.usage_seen:
            return None
        usage = outcome.usage
        cached = usage.input_cache_read
        return (usage.input_total - cached, cached, usage.output)

    def line(self, finished: float, now_unix: float) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "ts": round(now_unix, 3),
            "request_id": self.request_id,
            "key_id": self.key_id,
            "method": self.method,
            "route": self.route,
            "model": None,
            "upstream": None,
            "upstream_model": None,
            "stream": None,
            "status": self.status,
            "latency_ms": round((finished - self.started) * 1000, 2),
        }
        if self.path is not None:
            entry["path"] = self.path
        error = self.error
        outcome = self.outcome
        if outcome is not None:
            entry.update(
                model=outcome.model or None,
                upstream=outcome.upstream,
                upstream_model=outcome.upstream_model,
                stream=outcome.stream,
            )
            if outcome.usage_seen:
                usage = outcome.usage
                entry["tokens"] = {
                    "input": usage.input_total,
                    "cached": usage.input_cache_read,
                    "output": usage.output,
                }
            if outcome.attempts > 1:  # retries and fallbacks: ``upstream`` is what served it
                entry["attempts"] = outcome.attempts
            if outcome.upstream_request_id is not None:
                entry["upstream_request_id"] = outcome.upstream_request_id
            if outcome.diagnostics:
                entry["diagnostics"] = [f"{d.code}: {d.detail}" for d in outcome.diagnostics]
            error = error or outcome.error
        if error is not None:
            entry["error"] = error
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

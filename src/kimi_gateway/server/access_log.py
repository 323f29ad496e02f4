"""The access log: one JSON line per request, written off the request's critical path.

The request task only builds a small dict and puts it on a queue (stdlib ``QueueHandler``); a
listener thread turns it into an orjson line and writes it. Fields: time, request id, key id,
method, route, model (as asked), upstream, upstream model, Kimi's request id, status, latency,
tokens, error kind, translation diagnostics. Secrets never reach it: the record is built from
named fields only (no headers, no bodies), and upstream keys are not in scope where it is built.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import sys
from dataclasses import dataclass, field
from typing import Any

import orjson

LOGGER_NAME = "kimi_gateway.access"


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


class _JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = getattr(record, "access", None)
        if entry is None:
            return record.getMessage()
        return orjson.dumps(entry).decode()


class AccessLog:
    """Owns the logger, queue and listener thread of one app (no module-level state)."""

    def __init__(self, destination: str) -> None:
        self.enabled = destination != "off"
        self._logger = logging.getLogger(f"{LOGGER_NAME}.{id(self):x}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._listener: logging.handlers.QueueListener | None = None
        if not self.enabled:
            return
        if destination == "-":
            target: logging.Handler = logging.StreamHandler(sys.stderr)
        else:
            target = logging.FileHandler(destination, encoding="utf-8")
        target.setFormatter(_JsonLineFormatter())
        q: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._logger.addHandler(_FastQueueHandler(q))
        self._listener = logging.handlers.QueueListener(q, target)

    def start(self) -> None:
        if self._listener is not None:
            self._listener.start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            for handler in self._listener.handlers:
                handler.close()
            self._listener = None
        for handler in list(self._logger.handlers):
            self._logger.removeHandler(handler)

    def write(self, entry: dict[str, Any]) -> None:
        if self.enabled:
            self._logger.info("access", extra={"access": entry})


class _FastQueueHandler(logging.handlers.QueueHandler):
    """Enqueue the record as is: formatting happens in the listener thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record

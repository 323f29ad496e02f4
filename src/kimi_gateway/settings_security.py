"""The ``security:`` section of the settings: limits on connections and on the work one request
may cause, and which small endpoints answer without a key (README "Security limits",
docs/security.md). YAML only; read once by :mod:`kimi_gateway.settings`.

- ``connections``: what a client connection may hold. Defaults are nginx's where nginx has one
  (``client_header_timeout`` and ``client_body_timeout`` 60 s, ``keepalive_timeout`` 75 s,
  ``large_client_header_buffers 4 8k``), Apache's ``LimitRequestFields 100`` for the header
  count and mod_reqtimeout's ``MinRate=500`` for the slowest body accepted.
- ``requests``: bounds on one request's work (messages, tool schemas, JSON values), each
  answered with a 400 naming the setting; bodies above ``offload_bytes`` are parsed and
  translated off the event loop so that one large request does not stall every other client.
- ``endpoints``: ``open`` (no key), ``key`` (any gateway key, or none while keys are optional)
  or ``admin`` (the master key) for ``/``, ``/healthz``, ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConnectionSettings(_Frozen):
    # The request line and headers must all arrive within this many seconds of the request's
    # first byte (or of the connection opening): a partial head is answered 408 and closed.
    header_timeout: float = Field(default=60.0, gt=0)
    # Longest pause between two reads of a request body (nginx client_body_timeout).
    body_timeout: float = Field(default=60.0, gt=0)
    # Slowest body accepted, in bytes per second on average, after the first body_timeout
    # seconds (0: no minimum). A body trickling in below it gets a 408 and the connection ends.
    body_min_rate: int = Field(default=500, ge=0)
    # An idle keep-alive connection is closed after this many seconds.
    keep_alive_timeout: int = Field(default=75, ge=1)
    # The request line plus all header lines, in bytes; more is answered 431.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    max_header_count: int = Field(default=100, ge=8)
    # Open client connections; the next one is answered 503 and closed.
    max_connections: int = Field(default=1024, ge=1)


class RequestSettings(_Frozen):
    max_messages: int = Field(default=10_000, ge=1)
    # Per tool schema (and response_format schema): nodes (objects, arrays and values) and
    # nesting depth.
    max_schema_nodes: int = Field(default=10_000, ge=1)
    max_schema_depth: int = Field(default=64, ge=2)
    # JSON values in a body (commas and opening brackets outside strings), counted before it is
    # parsed: what bounds the parse itself.
    max_json_values: int = Field(default=100_000, ge=1000)
    # Bodies of at least this many bytes are parsed and translated in a worker thread.
    offload_bytes: int = Field(default=256 * 1024, ge=0)
    # JSON bodies must say so (application/json or application/*+json; else 415): a web page
    # can send a text/plain or untyped POST to a gateway on 127.0.0.1 without the browser
    # asking first (no CORS preflight), a JSON one it cannot.
    require_json_content_type: bool = True


Access = Literal["open", "key", "admin"]


class EndpointSettings(_Frozen):
    root: Access = "open"  # service name, version, upstream kind; Claude Code probes it
    healthz: Access = "open"  # {"status": "ok"}: liveness for load balancers
    readyz: Access = "open"  # started, upstream names, breaker and queue states
    metrics: Access = "key"  # Prometheus: request, token and upstream counters


class SecuritySettings(_Frozen):
    connections: ConnectionSettings = ConnectionSettings()
    requests: RequestSettings = RequestSettings()
    endpoints: EndpointSettings = EndpointSettings()

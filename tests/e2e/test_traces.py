"""OpenTelemetry traces (the ``otel`` extra) exported over OTLP/HTTP to a real receiver the
test starts (it decodes the protobuf export requests with opentelemetry-proto): one SERVER span
per request with the GenAI attributes, one CLIENT span under it per upstream attempt."""

from __future__ import annotations

import gzip
import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

pytest.importorskip("opentelemetry.sdk")
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class Receiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1: ``spans`` is every span it was sent."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.take(self.path, body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, path: str, body: bytes) -> None:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: _value(a.value) for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        {
                            "name": span.name,
                            "kind": span.kind,
                            "trace": span.trace_id.hex(),
                            "id": span.span_id.hex(),
                            "parent": span.parent_span_id.hex(),
                            "status": span.status.code,
                            "service": service.get("service.name"),
                            "attributes": {a.key: _value(a.value) for a in span.attributes},
                        }
                    )

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.spans) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.spans


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


SERVER, CLIENT = 2, 3  # the protobuf SpanKind values


def test_one_span_per_request_and_one_per_upstream_attempt(
    gateway_factory: Any, kimi_emulator_factory: Any, receiver: Receiver
) -> None:
    # Every second call is overloaded: the first attempt fails, the retry answers.
    emulator = kimi_emulator_factory(faults=[{"kind": "engine_overloaded", "every": 2}])
    gateway = gateway_factory(
        emulator=emulator, ledger={"traces_endpoint": receiver.url, "service_name": "gw-test"}
    )
    client = openai.OpenAI(base_url=gateway.openai_url, api_key="k", max_retries=0)
    for _ in range(2):
        client.chat.completions.create(
            model="kimi-k2.6", max_tokens=50, messages=[{"role": "user", "content": "@@text:hi@@"}]
        )
    gateway.stop()  # the tracer provider flushes its queue on shutdown
    spans = receiver.wait_for(5)
    requests = [s for s in spans if s["kind"] == SERVER]
    attempts = [s for s in spans if s["kind"] == CLIENT]
    assert len(requests) == 2
    assert {s["service"] for s in spans} == {"gw-test"}
    first, second = sorted(
        requests, key=lambda s: len([a for a in attempts if a["parent"] == s["id"]])
    )
    assert [a["parent"] for a in attempts].count(first["id"]) == 1
    assert [a["parent"] for a in attempts].count(second["id"]) == 2  # overloaded, then retried
    failed = [a for a in attempts if a["status"] == 2]  # STATUS_CODE_ERROR
    assert [a["attributes"]["error.type"] for a in failed] == ["overloaded"]
    assert all(
        a["trace"] == r["trace"] for r in requests for a in attempts if a["parent"] == r["id"]
    )
    attributes = first["attributes"]
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "moonshot"
    assert attributes["gen_ai.request.model"] == "kimi-k2.6"
    assert attributes["gen_ai.request.max_tokens"] == 50
    assert attributes["gen_ai.response.model"] == "kimi-k2.6"
    assert attributes["gen_ai.usage.output_tokens"] > 0
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert first["name"] == "chat kimi-k2.6"
    assert all(a["name"] == "chat kimi-k2.6" for a in attempts)

"""OpenTelemetry traces (the ``otel`` extra): one SERVER span per generation and one CLIENT
span per upstream attempt under it, with the GenAI semantic conventions, exported over
OTLP/HTTP to ``ledger.traces_endpoint``.

The request span starts in a before-hook (once the request is routed; its start is back-dated
to when the engine took the request) and is made current, so each attempt the reliability
wrappers make (:class:`TracedUpstream`, wrapped around every base upstream) opens a child of
it; the after-hook ends it with the outcome: response model, token usage, error type. The
tracer provider is the gateway's own (never the process-global one) and is shut down — its
queue flushed — with the gateway. Spans are exported by the SDK's batch processor, off the
request path.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request
from kimi_gateway.core.outcome import Outcome
from kimi_gateway.core.upstream import CallContext, ListedModel, Opened, Upstream
from kimi_gateway.engine.hooks import Dispatch

PROVIDER = "moonshot"  # gen_ai.provider.name for every Kimi surface


class Tracing:
    """The gateway's tracer and its two hooks."""

    def __init__(self, endpoint: str, service: str = "kimi-gateway") -> None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            raise RuntimeError(
                "ledger.traces_endpoint needs OpenTelemetry: pip install 'kimi-gateway[otel]'"
            ) from None
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
        self.provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
        self.tracer = self.provider.get_tracer("kimi_gateway")
        self._open: dict[int, tuple[Any, object]] = {}  # id(outcome) → (span, context token)
        self._offset = time.time_ns() - time.perf_counter_ns()  # perf_counter → wall ns

    def _wall_ns(self, perf_seconds: float) -> int:
        return self._offset + int(perf_seconds * 1e9)

    async def start(self, dispatch: Dispatch) -> None:
        """Before-hook: the request span, current for the upstream calls that follow."""
        if dispatch.counting:
            return
        from opentelemetry import context, trace

        request, outcome = dispatch.request, dispatch.outcome
        span = self.tracer.start_span(
            f"chat {request.model}",
            kind=trace.SpanKind.SERVER,
            start_time=self._wall_ns(outcome.started) if outcome.started else None,
            attributes=_request_attributes(request, dispatch),
        )
        token = context.attach(trace.set_span_in_context(span))
        self._open[id(outcome)] = (span, token)

    def end(self, outcome: Outcome) -> None:
        """After-hook: what the generation did, then the span ends."""
        found = self._open.pop(id(outcome), None)
        if found is None:
            return
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        span, token = found
        # Ended in another context than it started: nothing there to restore.
        with contextlib.suppress(Exception):
            context.detach(token)  # type: ignore[arg-type]
        span.set_attributes(_outcome_attributes(outcome))
        if outcome.error is not None:
            span.set_attribute("error.type", outcome.error)
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=self._wall_ns(outcome.ended) if outcome.ended else None)

    def wrap(self, upstream: Upstream) -> Upstream:
        return TracedUpstream(upstream, self.tracer)

    def close(self) -> None:
        self.provider.shutdown()


def _request_attributes(request: Request, dispatch: Dispatch) -> dict[str, Any]:
    found: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": PROVIDER,
        "gen_ai.request.model": request.model,
        "kimi_gateway.client_dialect": dispatch.client,
        "kimi_gateway.upstream": dispatch.target.upstream.name,
        "kimi_gateway.stream": request.stream,
    }
    optional = {
        "gen_ai.request.max_tokens": request.max_tokens,
        "gen_ai.request.temperature": request.temperature,
        "gen_ai.request.top_p": request.top_p,
        "kimi_gateway.key_id": dispatch.principal.key_id,
        "kimi_gateway.request_id": dispatch.outcome.request_id,
    }
    found.update({k: v for k, v in optional.items() if v is not None})
    return found


def _outcome_attributes(outcome: Outcome) -> dict[str, Any]:
    usage = outcome.usage
    found: dict[str, Any] = {
        "kimi_gateway.attempts": outcome.attempts,
        "kimi_gateway.tool_calls": outcome.tool_calls,
    }
    if outcome.upstream_model:
        found["gen_ai.response.model"] = outcome.upstream_model
    if outcome.upstream_request_id:
        found["gen_ai.response.id"] = outcome.upstream_request_id
    if outcome.usage_seen:
        found["gen_ai.usage.input_tokens"] = usage.input_total
        found["gen_ai.usage.output_tokens"] = usage.output
        found["gen_ai.usage.cache_read.input_tokens"] = usage.input_cache_read
    return found


class TracedUpstream:
    """An upstream whose every ``open`` is a CLIENT span (one per attempt: retries and
    fallbacks call it again), ending when the head and first batch are in or the call failed."""

    def __init__(self, inner: Upstream, tracer: Any) -> None:
        self._inner = inner
        self._tracer = tracer

    def __getattr__(self, name: str) -> Any:  # name, kind, product, dialect, files, …
        return getattr(self._inner, name)

    def upstream_model(self, model: str) -> str:
        return self._inner.upstream_model(model)

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.request.model": request.model,
            "kimi_gateway.upstream": self._inner.name,
        }
        with self._tracer.start_as_current_span(
            f"chat {request.model}", kind=trace.SpanKind.CLIENT, attributes=attributes,
            record_exception=False, set_status_on_exception=False,
        ) as span:  # fmt: skip
            try:
                opened = await self._inner.open(request, ctx)
            except GatewayError as exc:
                span.set_attribute("error.type", exc.kind)
                span.set_attribute("http.response.status_code", exc.status)
                span.set_status(Status(StatusCode.ERROR, exc.message[:200]))
                raise
            if opened.request_id:
                span.set_attribute("gen_ai.response.id", opened.request_id)
            return opened

    async def models(self, ctx: CallContext) -> list[ListedModel]:
        return await self._inner.models(ctx)

    async def count_tokens(self, request: Request, ctx: CallContext) -> int:
        return await self._inner.count_tokens(request, ctx)

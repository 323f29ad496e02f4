"""Kimi's surfaces as :class:`~kimi_gateway.core.upstream.Upstream` implementations.

One :class:`KimiUpstream` per surface (the Open Platform's OpenAI face and Anthropic route, Kimi
Code's two faces: docs/kimi.md §1, §13, §14). ``open`` runs the quirk layer and the surface's
renderer (adapter.py), sends through the shared :class:`UpstreamHttp`, and reads the reply in the
surface's dialect. The key lives here as a SecretStr and is only ever written into the outgoing
auth header (never logged, never rendered). Kimi Code gates on the real client's User-Agent
(§1, §13.1): it is forwarded unchanged there and never forged.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
import orjson
from pydantic import SecretStr

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.model import Diagnostic, DialectName, Request
from kimi_gateway.core.upstream import CallContext, FilesAPI, ListedModel, Opened
from kimi_gateway.dialects.registry import DIALECTS, Dialect
from kimi_gateway.upstreams.http import UpstreamHttp
from kimi_gateway.upstreams.kimi import context_fit
from kimi_gateway.upstreams.kimi.adapter import KimiSurface, UpstreamCall, build_upstream_request
from kimi_gateway.upstreams.kimi.files import KimiFiles
from kimi_gateway.upstreams.kimi.listing import from_profile, from_wire
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy, ReasoningLookup
from kimi_gateway.upstreams.kimi.profiles import known_models, profile_for
from kimi_gateway.upstreams.kimi.quirks_sampling import estimate_prompt_tokens
from kimi_gateway.upstreams.kimi.schema_memo import SchemaMemo
from kimi_gateway.upstreams.kimi.signatures import IssuedSignatures
from kimi_gateway.upstreams.offload import off_loop, outgoing_body
from kimi_gateway.upstreams.streaming import Reading, error_of, opened

CODING_AGENT_HINT = (
    "Kimi Code serves only approved coding agents (Claude Code, Kimi Code CLI, Roo Code) and "
    "recognises them by User-Agent; this gateway forwards your client's own User-Agent "
    "unchanged and never impersonates one. For any other client use a Kimi Open Platform key "
    "(KIMI_API_KEY, https://platform.kimi.ai) instead of Kimi Code."
)
UPSTREAM_AUTH_HINT = (
    "Kimi refused the gateway's upstream key; check KIMI_API_KEY / KIMI_CODE_API_KEY (keys of "
    "the Open Platform, its regions and Kimi Code are not interchangeable)."
)
ESTIMATE_PATH = "/tokenizers/estimate-token-count"  # §11


class Catalog:
    """One model-list fetch shared by the faces of one account: concurrent askers share the
    call in flight; a later ask fetches anew (the engine caches the merged list)."""

    def __init__(self) -> None:
        self._task: asyncio.Task[list[ListedModel]] | None = None

    async def get(self, fetch: Callable[[], Awaitable[list[ListedModel]]]) -> list[ListedModel]:
        task = self._task
        if task is None or task.done():
            task = self._task = asyncio.ensure_future(fetch())
        return list(await asyncio.shield(task))


class KimiUpstream:
    """One Kimi surface with its key. ``root`` is the base that ``/models``, ``/files`` and
    ``/tokenizers/…`` hang off (…/v1 of the product's OpenAI face); ``estimate`` is the OpenAI
    face the token estimate is rendered for (the Open Platform only; None for Kimi Code)."""

    def __init__(
        self,
        name: str,
        surface: KimiSurface,
        key: SecretStr,
        *,
        root: str,
        http: UpstreamHttp,
        policy: QuirkPolicy,
        estimate: KimiSurface | None,
        models: Mapping[str, str] | None = None,
        kind: str = "kimi_platform",
        catalog: Catalog | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.surface = surface
        self.root = root
        self._key = key
        self._http = http
        self._policy = policy
        self._estimate = estimate
        self._models = dict(models or {})
        self._catalog = catalog or Catalog()
        self._dialect: Dialect = DIALECTS[surface.dialect]
        # Kimi's Anthropic faces sign thinking; what they issued tells foreign blocks apart.
        self._signatures = (
            IssuedSignatures(policy.remembered_signatures)
            if surface.dialect == "anthropic_messages"
            else None
        )
        # The tools a client sends every turn, made MFJS once (schema_memo.py, issue 15 item 3).
        size = policy.schema_memo_bytes
        self._schemas: SchemaMemo | None = BytesLRU(size) if size else None
        self.forward_user_agent = surface.product == "kimi_code"
        where = f"Kimi upstream {urlsplit(surface.base_url).hostname}"
        self._reading = Reading(http, self._dialect, where, name, explain=self.explain)
        # The Files API hangs off the platform's OpenAI face and answers in its dialect (§9).
        self._files = (
            KimiFiles(root, self.auth_headers, http, self._reading, policy.file_purposes)
            if surface.product == "platform" and surface.dialect == "openai_chat"
            else None
        )

    @property
    def product(self) -> str:
        return self.surface.product

    @property
    def dialect(self) -> DialectName:
        return self.surface.dialect

    @property
    def files(self) -> FilesAPI | None:
        return self._files

    def upstream_model(self, model: str) -> str:
        return self._models.get(model, model)

    def auth_headers(self) -> dict[str, str]:
        value = self.surface.auth_header_value(self._key.get_secret_value())
        return {self.surface.auth_header_name: value}

    def explain(self, error: GatewayError) -> GatewayError:
        if error.hint is None:
            if error.kind == "permission" and self.product == "kimi_code":
                error.hint = CODING_AGENT_HINT
            elif error.kind == "authentication":
                error.hint = UPSTREAM_AUTH_HINT
        return error

    def build(self, request: Request, reasoning: ReasoningLookup | None = None) -> UpstreamCall:
        """The HTTP call for ``request`` (quirks, render, wire fix-ups), minus the key;
        ``reasoning`` finds what the gateway remembered for a turn that came back without it."""
        profile = profile_for(request.model, product=self.surface.product)
        issued = None if self._signatures is None else self._signatures.issued
        return build_upstream_request(
            request,
            self.surface,
            profile,
            self._policy,
            signature_issued=issued,
            reasoning_lookup=reasoning,
            schema_memo=self._schemas,
        )

    def _encode(self, request: Request, ctx: CallContext) -> tuple[UpstreamCall, bytes]:
        """The call for ``request`` and its body, encoded (the CPU-heavy part of ``open``)."""
        call = self.build(request, ctx.reasoning.get if ctx.reasoning else None)  # {}: none
        return call, orjson.dumps(call.body)

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        call, body = await off_loop(ctx, self._encode, request, ctx)
        try:
            return await self._open(request, call, body, ctx)
        except GatewayError as error:
            again = await self._fit_context(request, call, error, ctx)
            if again is None:
                raise
        call, body = await off_loop(ctx, self._encode, again[0], ctx)
        result = await self._open(again[0], call, body, ctx)
        return dataclasses.replace(result, diagnostics=(*result.diagnostics, again[1]))

    async def _fit_context(
        self, request: Request, call: UpstreamCall, error: GatewayError, ctx: CallContext
    ) -> tuple[Request, Diagnostic] | None:
        """``request`` with ``max_tokens`` fitted to the context window after Kimi refused
        prompt + max_tokens (context_fit.py), or None when that cannot help."""
        sent = context_fit.sent_max_tokens(call.body)
        context = profile_for(request.model, product=self.surface.product).context_window
        if not self._policy.clamp_max_tokens_to_context or self._policy.strict:
            return None
        if sent is None or context is None or not context_fit.may_fit(error):
            return None
        try:  # the estimate endpoint counts the OpenAI form: a face may count more (§11)
            prompt, counted_by = await self.count_tokens(request, ctx), "Kimi's token estimate"
        except GatewayError:
            prompt = await off_loop(ctx, estimate_prompt_tokens, request)
            counted_by = "the gateway's high estimate"
        margin = max(64, prompt // 20)  # for what the face's own template adds
        room = context_fit.fitted_max_tokens(error, sent, context, prompt + margin)
        if room is None:
            return None
        note = context_fit.fitted(sent, room, f"{prompt} tokens by {counted_by}")
        return dataclasses.replace(request, max_tokens=room), note

    async def _open(
        self, request: Request, call: UpstreamCall, body: bytes, ctx: CallContext
    ) -> Opened:
        response = await self._send(call, body, ctx)
        streamed = bool(call.body.get("stream"))
        result = await opened(
            self._reading,
            response,
            model=request.model,
            streamed=streamed,
            diagnostics=call.diagnostics,
            enforce_stop=call.enforce_stop,
        )
        return result if self._signatures is None else self._signatures.record(result)

    async def _send(
        self, call: UpstreamCall, body: bytes, ctx: CallContext
    ) -> aiohttp.ClientResponse:
        headers = call.headers_with_key(self._key.get_secret_value())
        if self.forward_user_agent and ctx.user_agent:
            headers["user-agent"] = ctx.user_agent
        data = outgoing_body(ctx, body, headers)
        return await self._http.open(
            call.method, call.url, headers, data, where=self._reading.where, deadline=ctx.deadline
        )

    async def models(self, ctx: CallContext) -> list[ListedModel]:
        """The product's ``/models`` (§11) with every field Kimi gives, fetched once for both
        faces of an account; the profile table's models when it cannot be reached."""
        return await self._catalog.get(lambda: self._fetch_models(ctx))

    async def _fetch_models(self, ctx: CallContext) -> list[ListedModel]:
        """The list, bounded by the timeout settings like any upstream call (connect, first
        byte, idle, and the caller's deadline: issue 10 item 7; it was a fixed 10 s)."""
        headers = self.auth_headers()
        if self.forward_user_agent and ctx.user_agent:
            headers["user-agent"] = ctx.user_agent
        where = self._reading.where
        try:
            async with asyncio.timeout_at(ctx.deadline):
                response = await self._http.open("GET", self.root + "/models", headers, where=where)
                raw = await self._http.read(response, where)
            data = orjson.loads(raw).get("data") if response.status == 200 else None
            if isinstance(data, list):
                listed = [from_wire(m) for m in data if isinstance(m, dict)]
                return [m for m in listed if m is not None]
        except (GatewayError, TimeoutError, ValueError, AttributeError):
            pass
        product = self.surface.product
        return [from_profile(name, product) for name in known_models(product)]

    def _estimate_call(self, request: Request, estimate: KimiSurface) -> tuple[UpstreamCall, bytes]:
        """The token-estimate call for ``request`` and its encoded body: the request fixed up
        for the OpenAI face, its ``model``, ``messages`` and ``tools`` only."""
        outgoing = dataclasses.replace(request, stream=False)
        profile = profile_for(request.model, product="platform")
        chat = build_upstream_request(
            outgoing, estimate, profile, self._policy, schema_memo=self._schemas
        )
        body: dict[str, object] = {
            k: chat.body[k] for k in ("model", "messages", "tools") if k in chat.body
        }
        call = dataclasses.replace(
            chat,
            url=self.root + ESTIMATE_PATH,
            body=body,
            headers={"content-type": "application/json"},
        )
        return call, orjson.dumps(body)

    async def count_tokens(self, request: Request, ctx: CallContext) -> int:
        """Kimi's estimate (§11): the request fixed up for the OpenAI face, its ``model``,
        ``messages`` and ``tools`` sent to ``/tokenizers/estimate-token-count``."""
        if self._estimate is None:
            raise GatewayError(
                "not_found",
                f"token counting is not available for {request.model!r}: it is served by Kimi "
                "Code, which has no token estimate endpoint (only the Open Platform has one)",
            )
        call, body = await off_loop(ctx, self._estimate_call, request, self._estimate)
        counting = CallContext(ctx.deadline, None, ctx.request_id, heavy=ctx.heavy)
        response = await self._send(call, body, counting)
        if response.status >= 300:
            raise await error_of(self._reading, response)
        try:
            payload = orjson.loads(await self._http.read(response, self._reading.where))
        except (GatewayError, orjson.JSONDecodeError):
            payload = None
        data = payload.get("data") if isinstance(payload, dict) else None
        total = data.get("total_tokens") if isinstance(data, dict) else None
        if not isinstance(total, int) or isinstance(total, bool):
            raise GatewayError("server", "Kimi's token estimate reply had no data.total_tokens")
        return total

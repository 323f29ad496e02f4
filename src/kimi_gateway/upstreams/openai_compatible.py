"""The ``openai_compatible`` upstream kind: any OpenAI-compatible host of Kimi's models — a
self-hosted vLLM or SGLang serving the open weights, or a reseller (OpenRouter, Together,
Fireworks, Groq) — with its own base URL, key, model-name map and quirk profile.

These hosts speak plain OpenAI Chat Completions, not the Open Platform's dialect, so the Kimi
platform's quirk layer (its validator's rules) does not run here. What differs per host is a
:class:`HostProfile` (docs/kimi.md §19), chosen by ``options.preset`` and refined field by
field in ``options``:

- ``reasoning_field``: the key an assistant turn's reasoning is sent back under (vLLM and SGLang
  read ``reasoning_content``; OpenRouter reads ``reasoning``) or ``omit``. Replies are read
  under either key by the OpenAI dialect.
- ``tool_ids``: ``kimi_native`` when the host runs Kimi's tool parser, whose ids look like
  ``functions.NAME:IDX`` and repeat across turns: history ids are rewritten to that form (the
  chat template puts them in the prompt), and reply ids become unique ``call_…`` ids, which
  every client accepts (Anthropic clients refuse ``.`` and ``:`` in ids; Responses clients key
  calls by id). ``unique`` only does the reply side (a router passing on whatever id its
  provider made); ``keep`` leaves ids alone.
- ``thinking``: how a request's thinking switch is sent — ``kimi`` (Kimi's own ``thinking`` and
  ``reasoning_effort`` fields), ``chat_template_kwargs`` (vLLM/SGLang: ``{"thinking": bool}``),
  ``openrouter`` (``reasoning: {effort | enabled}``), or ``drop`` (with a diagnostic).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
from pydantic import SecretStr

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.events import PartStart
from kimi_gateway.core.model import (
    Diagnostic,
    DialectName,
    Message,
    Request,
    Response,
    ToolCallPart,
    ToolResultPart,
)
from kimi_gateway.core.upstream import (
    Batch,
    CallContext,
    FilesAPI,
    ListedModel,
    Opened,
    Upstream,
)
from kimi_gateway.dialects.registry import OPENAI
from kimi_gateway.settings import UpstreamConfig
from kimi_gateway.upstreams.config import BuildContext, Options, parse_options, require
from kimi_gateway.upstreams.http import UpstreamHttp
from kimi_gateway.upstreams.offload import off_loop, outgoing_body
from kimi_gateway.upstreams.streaming import Reading, opened

ReasoningField = Literal["reasoning_content", "reasoning", "omit"]
ToolIds = Literal["keep", "unique", "kimi_native"]
ThinkingStyle = Literal["kimi", "chat_template_kwargs", "openrouter", "drop"]
Preset = Literal["generic", "vllm", "sglang", "openrouter", "together", "fireworks", "groq"]


@dataclasses.dataclass(frozen=True, slots=True)
class HostProfile:
    reasoning_field: ReasoningField = "reasoning_content"
    tool_ids: ToolIds = "keep"
    thinking: ThinkingStyle = "drop"


# What each host is known to do (docs/kimi.md §19.8, with sources and confidence there).
# generic: unique reply ids, the safe side for a host whose parser is unknown.
PRESETS: Mapping[str, HostProfile] = {
    "generic": HostProfile("reasoning_content", "unique", "drop"),
    # §19.2: kimi_k2 tool parser ids; thinking via chat_template_kwargs; history reasoning
    # under `reasoning` (from v0.16 a `reasoning_content` key in history was silently dropped
    # until PR #42664); replies say `reasoning`, which the OpenAI dialect reads.
    "vllm": HostProfile("reasoning", "kimi_native", "chat_template_kwargs"),
    "sglang": HostProfile("reasoning_content", "kimi_native", "chat_template_kwargs"),  # §19.3
    # §19.4: reasoning / reasoning_details; ids pass through from the provider that served it.
    "openrouter": HostProfile("reasoning", "unique", "openrouter"),
    "together": HostProfile("reasoning_content", "keep", "drop"),  # §19.5: call_… ids
    "fireworks": HostProfile("reasoning_content", "kimi_native", "drop"),  # §19.6
    # §19.7: Groq refuses unknown fields, reasoning_content in history included.
    "groq": HostProfile("omit", "kimi_native", "drop"),
}


class HostOptions(Options):
    preset: Preset = "generic"
    reasoning_field: ReasoningField | None = None
    tool_ids: ToolIds | None = None
    thinking: ThinkingStyle | None = None

    def profile(self) -> HostProfile:
        base = PRESETS[self.preset]
        return HostProfile(
            self.reasoning_field or base.reasoning_field,
            self.tool_ids or base.tool_ids,
            self.thinking or base.thinking,
        )


def native_tool_ids(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """History with every tool-call id as Kimi's parser writes it, ``functions.NAME:IDX``
    (IDX counting calls across the conversation), and each tool result pointing at its call."""
    renamed: dict[str, str] = {}
    out: list[Message] = []
    for message in messages:
        parts = []
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                new_id = f"functions.{part.name}:{len(renamed)}"
                renamed[part.id] = new_id
                part = dataclasses.replace(part, id=new_id)
            elif isinstance(part, ToolResultPart) and part.tool_call_id in renamed:
                part = dataclasses.replace(part, tool_call_id=renamed[part.tool_call_id])
            parts.append(part)
        out.append(dataclasses.replace(message, parts=tuple(parts)))
    return tuple(out)


def _thinking_fields(request: Request, style: ThinkingStyle) -> dict[str, Any]:
    thinking = request.thinking
    if thinking is None or style == "kimi":
        return {}
    on = thinking.mode != "disabled"
    if style == "chat_template_kwargs":
        return {"chat_template_kwargs": {"thinking": on}}
    if style == "openrouter":
        return {
            "reasoning": {"effort": thinking.effort} if on and thinking.effort else {"enabled": on}
        }
    return {}


def render_for_host(
    request: Request, profile: HostProfile
) -> tuple[dict[str, Any], tuple[Diagnostic, ...]]:
    """The Chat Completions body this host accepts, and what was changed on the way."""
    diagnostics = request.diagnostics
    if profile.tool_ids == "kimi_native":
        request = dataclasses.replace(request, messages=native_tool_ids(request.messages))
    style = profile.thinking
    if request.thinking is not None and style == "drop":
        detail = "thinking: this host takes no thinking switch; the host's default applies"
        diagnostics = (*diagnostics, Diagnostic("dropped_param", detail))
    sent = request if style == "kimi" else dataclasses.replace(request, thinking=None)
    body = OPENAI.render_request(sent)
    for key, value in _thinking_fields(request, style).items():
        prior = body.get(key)  # a client's own chat_template_kwargs / reasoning are kept
        body[key] = {**prior, **value} if isinstance(prior, dict) else value
    field = profile.reasoning_field
    if field != "reasoning_content":
        body["messages"] = [_reasoning_as(m, field) for m in body["messages"]]
    return body, diagnostics


def _reasoning_as(message: dict[str, Any], field: str) -> dict[str, Any]:
    """``message`` with its reasoning under the host's ``field`` (a copy: the rendered
    messages are shared, dialects/openai_chat/request.py)."""
    if "reasoning_content" not in message and "reasoning_details" not in message:
        return message
    out = {k: v for k, v in message.items() if k != "reasoning_content"}
    reasoning = message.get("reasoning_content")
    if field == "omit":
        out.pop("reasoning_details", None)  # a strict host refuses unknown keys
    elif reasoning is not None:
        out[field] = reasoning
    return out


class UniqueToolIds:
    """Reply-side: a host's repeating ``functions.NAME:IDX`` ids become ``call_<nonce>_<n>``."""

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(6)

    def __call__(self, batch: Batch) -> Batch:
        return [
            dataclasses.replace(e, tool_call_id=f"call_{self._nonce}_{e.index}")
            if isinstance(e, PartStart) and e.tool_call_id is not None
            else e
            for e in batch
        ]

    def response(self, response: Response) -> Response:
        parts = tuple(
            dataclasses.replace(p, id=f"call_{self._nonce}_{i}")
            if isinstance(p, ToolCallPart)
            else p
            for i, p in enumerate(response.parts)
        )
        return dataclasses.replace(response, parts=parts)


class OpenAICompatibleUpstream:
    kind = "openai_compatible"
    product = "openai_compatible"
    files: FilesAPI | None = None

    def __init__(
        self,
        name: str,
        base_url: str,
        key: SecretStr | None,
        models: Mapping[str, str],
        profile: HostProfile,
        http: UpstreamHttp,
    ) -> None:
        self.name = name
        self.profile = profile
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._root = base_url.rstrip("/")
        self._key = key
        self._models = dict(models)
        self._http = http
        self._where = f"upstream {name} ({urlsplit(base_url).hostname})"
        self._reading = Reading(http, OPENAI, self._where, name)

    @property
    def dialect(self) -> DialectName:
        return "openai_chat"

    def upstream_model(self, model: str) -> str:
        return self._models.get(model, model)

    def _headers(self, stream: bool) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if stream:
            headers["accept"] = "text/event-stream"
        if self._key is not None:
            headers["authorization"] = "Bearer " + self._key.get_secret_value()
        return headers

    def _encode(self, request: Request) -> tuple[bytes, tuple[Diagnostic, ...]]:
        body, diagnostics = render_for_host(request, self.profile)
        return orjson.dumps(body), diagnostics

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        body, diagnostics = await off_loop(ctx, self._encode, request)
        reading = self._reading
        if self.profile.tool_ids != "keep":
            ids = UniqueToolIds()
            reading = dataclasses.replace(reading, fix_batch=ids, fix_response=ids.response)
        headers = self._headers(request.stream)
        data = outgoing_body(ctx, body, headers)
        response = await self._http.open(
            "POST", self._url, headers, data, where=self._where, deadline=ctx.deadline
        )
        return await opened(
            reading, response, model=request.model, streamed=request.stream, diagnostics=diagnostics
        )

    async def models(self, ctx: CallContext) -> list[ListedModel]:
        # The names this gateway maps; hosts' own lists vary (and say nothing of Kimi's).
        return [ListedModel(name) for name in self._models]

    async def count_tokens(self, request: Request, ctx: CallContext) -> int:
        raise GatewayError(
            "not_found",
            f"token counting is not available for {request.model!r}: upstream {self.name!r} "
            "has no token estimate endpoint",
        )


def build_openai_compatible(entry: UpstreamConfig, ctx: BuildContext) -> list[Upstream]:
    options = parse_options(entry, HostOptions)
    base_url = require(entry, "base_url", entry.base_url)
    upstream = OpenAICompatibleUpstream(
        entry.name, base_url, entry.api_key, entry.models, options.profile(), ctx.http
    )
    return [upstream]

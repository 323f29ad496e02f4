"""The Kimi quirk layer: :func:`apply_quirks` runs every named fix-up, in order, on a canonical
Request bound for a Kimi upstream, and returns a new Request whose ``diagnostics`` record each
change of meaning (issue 3 §4: lossy is never silent). In strict mode any such change — and any
diagnostic the client dialect already recorded — is a 400 naming it instead.

The fix-ups themselves live in ``quirks_*.py``, one small pure function each, with its reason
and source: sampling (``quirks_sampling``), thinking and tool_choice (``quirks_thinking``),
message content (``quirks_messages``), top-level fields (``quirks_fields``), tools
(``quirks_tools``). Wire-level fix-ups that exist only in one wire format are ``quirks_wire``.
What does not belong here: model facts (``profiles``), deployment choices (``policy``), hosts and
auth (``adapter``).

System messages in the middle of a conversation are left alone: Kimi's OpenAI faces accept the
``system`` role anywhere (docs/kimi.md §5.1 roles; K3 even takes tool-bearing system messages
mid-conversation), and the Anthropic faces accept Claude Code's mid-conversation ``system``
messages (docs/kimi.md §F1).
"""

from __future__ import annotations

from collections.abc import Callable

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Request
from kimi_gateway.upstreams.kimi import quirks_fields as fields
from kimi_gateway.upstreams.kimi import quirks_messages as messages
from kimi_gateway.upstreams.kimi import quirks_sampling as sampling
from kimi_gateway.upstreams.kimi import quirks_thinking as thinking
from kimi_gateway.upstreams.kimi import quirks_tools as tools
from kimi_gateway.upstreams.kimi.policy import (
    QuirkContext,
    QuirkPolicy,
    ReasoningLookup,
    SignatureCheck,
    UpstreamDialect,
)
from kimi_gateway.upstreams.kimi.profiles import ModelProfile
from kimi_gateway.upstreams.kimi.schema_memo import SchemaMemo

Quirk = Callable[[Request, QuirkContext], Request]


def _sampling(request: Request, ctx: QuirkContext) -> Request:
    return sampling.fix_sampling(request, ctx, thinking.thinking_on(request, ctx))


# The order matters: fields first; thinking settled (forced tool_choice and missing reasoning
# may turn it off) before the sampling rules that depend on it; content before tools.
PIPELINE: tuple[Quirk, ...] = (
    fields.drop_unsupported_params,
    tools.ensure_prompt_cache_key,
    fields.map_openai_identity,
    thinking.map_thinking_config,
    thinking.resolve_forced_tool_choice,
    thinking.drop_foreign_thinking,
    thinking.restore_reasoning,
    _sampling,
    sampling.raise_temperature_for_n,
    sampling.limit_stop,
    sampling.set_max_tokens,
    messages.place_dynamic_tools,
    messages.fix_content,
    tools.mark_builtin_tools,
    tools.dedupe_tools,
    tools.cap_tools,
    tools.normalise_tool_schemas,
)


def apply_quirks(
    request: Request,
    profile: ModelProfile,
    policy: QuirkPolicy,
    *,
    dialect: UpstreamDialect = "openai_chat",
    reasoning_lookup: ReasoningLookup | None = None,
    signature_issued: SignatureCheck | None = None,
    schema_memo: SchemaMemo | None = None,
) -> Request:
    """``request`` made acceptable to Kimi's ``dialect`` face for ``profile``'s model.

    ``reasoning_lookup`` (optional) returns stored reasoning for an assistant turn by one of its
    tool-call ids, to restore what a client dropped (docs/kimi.md §F2.1);
    ``signature_issued`` (Kimi's Anthropic faces) tells Kimi's thinking signatures from foreign
    ones (docs/kimi.md §13.3); ``schema_memo`` keeps tool schemas made MFJS (schema_memo.py).
    Raises
    TranslationError for requests no policy can fix, and in strict mode for any change.
    """
    if policy.strict and request.diagnostics:
        first = request.diagnostics[0]
        raise TranslationError(
            f"strict mode: the request could not be translated as sent ({first.code}): "
            f"{first.detail}"
        )
    ctx = QuirkContext(profile, policy, dialect, reasoning_lookup, signature_issued, schema_memo)
    for quirk in PIPELINE:
        request = quirk(request, ctx)
    return request


__all__ = ["PIPELINE", "Quirk", "QuirkPolicy", "apply_quirks"]

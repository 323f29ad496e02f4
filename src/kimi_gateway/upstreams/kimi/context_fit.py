"""Prompt plus ``max_tokens`` over the context window, fitted by Kimi's own count (issue 9 item 8).

The quirk layer clamps ``max_tokens`` against a low prompt estimate (quirks_sampling.py
``set_max_tokens``), so that a request which fits is never cut. The price: a prompt the estimate
under-counts can still meet Kimi's "exceeded model token limit" 400 (docs/kimi.md §2.2), a
refusal the client did nothing to earn (OpenAI's own models take any ``max_tokens`` up to the
output cap). On that refusal, when ``max_tokens`` is what overflows, the upstream counts the
prompt (Kimi's token estimate, docs/kimi.md §11; the gateway's high estimate where the product
has none) and sends the request once more with ``max_tokens`` = the context minus the prompt,
with a diagnostic. A prompt that alone fills the window is Kimi's refusal to give.

Pure: the rule only; upstreams/kimi/upstream.py runs it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Diagnostic

_FIELDS = ("max_completion_tokens", "max_tokens")  # as the Chat face renders it, as Anthropic


# §2.2: prompt + max_tokens over the window ("Input token length too long" is the prompt alone).
_OVER_WITH_OUTPUT = re.compile(r"exceeded model token limit", re.IGNORECASE)


def may_fit(error: GatewayError) -> bool:
    """Whether ``error`` is Kimi's refusal of prompt + max_tokens over the context window."""
    return error.kind == "invalid_request" and _OVER_WITH_OUTPUT.search(error.message) is not None


def sent_max_tokens(body: Mapping[str, object]) -> int | None:
    """The ``max_tokens`` a rendered upstream body carries, if any."""
    for field in _FIELDS:
        value = body.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def fitted_max_tokens(
    error: GatewayError, sent: int | None, context: int | None, prompt: int
) -> int | None:
    """The ``max_tokens`` to send again after ``error``, or None when a second try cannot
    help: not a context refusal, no ``max_tokens`` or window known, the prompt alone at least
    the window, or no smaller value to send."""
    if sent is None or context is None or not may_fit(error):
        return None
    room = context - prompt
    if room < 1 or room >= sent:
        return None
    return room


def fitted(sent: int, room: int, counted_by: str) -> Diagnostic:
    detail = (
        f"max_tokens={sent} sent again as {room}: Kimi refused prompt + max_tokens over the "
        f"context window, and the prompt is {counted_by}"
    )
    return Diagnostic("changed_param", detail)

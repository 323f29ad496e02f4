"""What a served ``response`` object says beyond the generation itself.

A server answering ``/v1/responses`` gives each response its own id and creation time, echoes
the request's parameters (``instructions``, ``tools``, ``tool_choice``, ``reasoning``, ``text``,
``store``, ``previous_response_id`` …, with the API's defaults for those not sent) and, when the
client asked for ``reasoning.encrypted_content``, seals each reasoning item (seal.py). An
:class:`Envelope` carries all of that into render_response and the StreamRenderer, so the
streamed and the non-streamed reply say the same. Without one, a rendered response carries only
what the canonical Response holds (a translator's view: upstream ids, no echo).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from kimi_gateway.core.model import ThinkingPart
from kimi_gateway.core.records import record

Seal = Callable[[ThinkingPart], str]

ENCRYPTED_REASONING = "reasoning.encrypted_content"  # the ``include`` value that asks for it

# The request parameters a response object echoes, with the value the API reports when the
# request did not send one.
ECHO_DEFAULTS: Mapping[str, Any] = {
    "background": False,
    "instructions": None,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "prompt_cache_key": None,
    "reasoning": {"effort": None, "summary": None},
    "safety_identifier": None,
    "service_tier": "default",
    "store": True,
    "temperature": None,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_logprobs": None,
    "top_p": None,
    "truncation": "disabled",
    "user": None,
}


@record
class Envelope:
    """``id`` / ``created_at``: the response's own (None: derived from the upstream's);
    ``echo``: the echoed request parameters (:func:`echo_fields`); ``seal``: makes a reasoning
    item's ``encrypted_content`` (None: the item has none); ``namespaces``: the request's
    namespace tools, whose flattened calls are given back their ``namespace`` (namespaces.py)."""

    id: str | None = None
    created_at: int | None = None
    echo: Mapping[str, Any] = field(default_factory=dict)
    seal: Seal | None = None
    namespaces: frozenset[str] = frozenset()


def echo_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of request ``body`` a response echoes, defaults filled in."""
    out = {key: body.get(key) for key in ECHO_DEFAULTS}
    for key, default in ECHO_DEFAULTS.items():
        if out[key] is None:
            out[key] = default
    reasoning = out["reasoning"]
    if isinstance(reasoning, Mapping):
        out["reasoning"] = {"effort": None, "summary": None, **reasoning}
    text = out["text"]
    if isinstance(text, Mapping) and "format" not in text:
        out["text"] = {**text, "format": {"type": "text"}}
    return out


def wants_encrypted_reasoning(body: Mapping[str, Any]) -> bool:
    include = body.get("include")
    return isinstance(include, list) and ENCRYPTED_REASONING in include

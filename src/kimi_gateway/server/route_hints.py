"""What an unknown route answers: the dialect its path implies and a hint the user can act on.

A request for a path the gateway does not serve is almost always a client with the wrong base
URL. Clients build their URLs differently, so the hint names the base URL to use for the family
the path belongs to: the Anthropic SDKs, Claude Code and OpenClaw's ``anthropic-messages`` add
``/v1/messages`` to their base URL (give them the gateway's address), while clients that add
only ``/messages`` need it with ``/v1``; OpenAI clients (Chat Completions, Responses, models,
files) add the endpoint's name to a base URL ending in ``/v1``. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["anthropic", "openai"]

# The endpoints the gateway serves under /v1, longest first (a suffix must match whole).
_ENDPOINTS: tuple[tuple[str, Family], ...] = (
    ("/messages/count_tokens", "anthropic"),
    ("/messages", "anthropic"),
    ("/chat/completions", "openai"),
    ("/responses", "openai"),
    ("/models", "openai"),
    ("/files", "openai"),
)
_SERVED = "/v1/chat/completions, /v1/responses, /v1/messages, /v1/models and /v1/files"


@dataclass(frozen=True, slots=True)
class UnknownRoute:
    family: Family  # the error's shape: Anthropic for …/messages paths, else OpenAI
    message: str


def unknown_route(method: str, path: str, origin: str) -> UnknownRoute:
    """The answer to ``method path``, which no route serves; ``origin`` is the gateway's address
    as the client reached it (``http://127.0.0.1:8787``), used to spell out base URLs."""
    shown = path if len(path) <= 200 else path[:200] + "…"
    message = f"Unknown request URL: {method} {shown}."
    for suffix, family in _ENDPOINTS:
        if path.endswith(suffix):
            hint = _base_url_hint(path.removesuffix(suffix), suffix, origin)
            return UnknownRoute(family, f"{message} {hint} {_family_hint(family, origin)}")
    shape: Family = "anthropic" if "/messages/" in path else "openai"
    return UnknownRoute(shape, f"{message} The gateway serves {_SERVED}.")


def _base_url_hint(prefix: str, suffix: str, origin: str) -> str:
    """What is wrong with the base URL, from what the client put before ``suffix``."""
    if prefix.endswith("/v1") and prefix != "/v1":
        extra = prefix.removesuffix("/v1")
        return (
            f"The gateway serves this at /v1{suffix}: remove {extra} from the end of the"
            " client's base URL."
        )
    if prefix == "/v1":  # a served path reached with the wrong method is a 405, not this
        return f"The gateway serves /v1{suffix}."
    now = f" (now {origin}{prefix})" if prefix else ""
    return f"This client adds {suffix} to its base URL, so the base URL should be {origin}/v1{now}."


def _family_hint(family: Family, origin: str) -> str:
    if family == "anthropic":
        return (
            "Anthropic clients that add /v1/messages themselves (the Anthropic SDKs, Claude"
            f" Code, OpenClaw) take the base URL {origin}; clients that add only /messages"
            f" take {origin}/v1."
        )
    return f"OpenAI clients (Chat Completions, Responses) take the base URL {origin}/v1."


def origin_of(scheme: str, host: str | None, server: tuple[str, int] | None) -> str:
    """The gateway's address as the client reached it: the Host header, else the socket's."""
    if host:
        return f"{scheme}://{host}"
    if server is not None:
        return f"{scheme}://{server[0]}:{server[1]}"
    return f"{scheme}://127.0.0.1:8787"

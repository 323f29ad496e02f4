"""Scripted upstream errors (emulator ``@@error:STATUS[:TYPE]@@`` markers) and what each client
dialect must receive for them (docs/kimi.md §2.2, §2.4, §16.2 "Errors")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCase:
    """A scripted upstream error and what each client dialect must receive."""

    name: str
    marker: str
    kind: str  # the GatewayError kind the upstream parser gives
    openai: tuple[int, str]  # status, error.type an OpenAI client receives
    anthropic: tuple[int, str]  # ... an Anthropic client
    # Kimi Code's Anthropic face names some errors by Anthropic's types (§13.4), which can say
    # more or less than Kimi's own: the kind read from them.
    via_anthropic: tuple[str, tuple[int, str], tuple[int, str]] | None = None

    def expect(self, upstream: str) -> tuple[str, tuple[int, str], tuple[int, str]]:
        if upstream == "anthropic" and self.via_anthropic is not None:
            return self.via_anthropic
        return self.kind, self.openai, self.anthropic


ERROR_CASES: tuple[ErrorCase, ...] = (
    # §2.2: Kimi's 429 engine_overloaded_error; Anthropic clients retry a 529 overloaded_error.
    ErrorCase(
        "overloaded",
        "@@error:429@@",
        "overloaded",
        (429, "server_error"),
        (529, "overloaded_error"),
    ),
    ErrorCase(
        "rate_limit",
        "@@error:429:rate_limit_reached_error@@",
        "rate_limit",
        (429, "rate_limit_error"),
        (429, "rate_limit_error"),
    ),
    # §2.4: quota exhaustion is never retried: 402 billing_error for Anthropic clients.
    ErrorCase(
        "quota",
        "@@error:429:exceeded_current_quota_error@@",
        "quota_exhausted",
        (429, "insufficient_quota"),
        (402, "billing_error"),
    ),
    ErrorCase(
        "bad_request",
        "@@error:400@@",
        "invalid_request",
        (400, "invalid_request_error"),
        (400, "invalid_request_error"),
    ),
    # §2.2: Kimi's safety review; both dialects answer 400 (Anthropic has no filter type).
    ErrorCase(
        "content_filter",
        "@@error:400:content_filter@@",
        "content_filter",
        (400, "invalid_request_error"),
        (400, "invalid_request_error"),
    ),
    ErrorCase("server", "@@error:500@@", "server", (500, "server_error"), (500, "api_error")),
    # Kimi's 503 server_unavailable; Kimi Code's Anthropic face sends it as overloaded_error.
    ErrorCase(
        "unavailable",
        "@@error:503@@",
        "unavailable",
        (503, "server_error"),
        (503, "api_error"),
        via_anthropic=("overloaded", (503, "server_error"), (529, "overloaded_error")),
    ),
)

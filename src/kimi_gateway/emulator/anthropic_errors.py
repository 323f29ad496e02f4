"""How the two Anthropic faces of the emulator render an `EmulatorError`.

- **Open Platform route** (`/anthropic/v1/messages`, docs/kimi.md §14, [3M] HALRO 2026-09-01):
  the same endpoint changes shape by status. 401 and 429 come back in the OpenAI envelope
  `{"error":{"type","message"}}` with Kimi's own types; 400 comes back in Anthropic's envelope
  `{"type":"error","error":{"type","message"},"request_id":…}`. Statuses nobody measured there
  (403, 404, 413, 5xx) take the Anthropic envelope too: the 401/429 pair looks like the gateway
  in front answering before the Anthropic adapter runs, and only those two were seen in the
  OpenAI shape.
- **Kimi Code face** (`/coding/v1/messages`, §13.4): always the Anthropic envelope, without
  `request_id` (no capture shows one).
- Both: the nginx HTML pages (`html=True`, e.g. the 504) stay HTML, as on every face.

Anthropic-shape `error.type` follows Anthropic's names by status: [3M] HALRO saw
`invalid_request_error` on 400 and `authentication_error` on a Kimi Code 401, and §13.4 [3M]
(PawWork) saw the overloaded 429 reported as `rate_limit_error`. The one Kimi type kept as is,
`access_terminated_error` (the coding-agents-only 403), is [3M] per §1.
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

from kimi_gateway.emulator.errors import EmulatorError, html_response, openai_error_response

# §14 [3M] HALRO: the statuses the platform route answers in the OpenAI envelope.
_PLATFORM_OPENAI_SHAPED = frozenset({401, 429})

# Kimi types that survive into Anthropic-shape bodies unchanged (see the module docstring).
_KEPT_TYPES = frozenset({"access_terminated_error"})

_ANTHROPIC_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def anthropic_error_type(err: EmulatorError) -> str:
    """The `error.type` of an Anthropic-shape body for this error."""
    if err.type in _KEPT_TYPES:
        return err.type
    fallback = "invalid_request_error" if err.status < 500 else "api_error"
    return _ANTHROPIC_TYPE_BY_STATUS.get(err.status, fallback)


def anthropic_error_body(err: EmulatorError, request_id: str | None) -> dict[str, object]:
    """Anthropic's envelope. With a `request_id` (platform), in HALRO's key order
    `type, error, request_id`; without (Kimi Code), in the order Kimi Code was captured
    sending, `{"error":{…},"type":"error"}` ([3M] MoonshotAI/Kimi-K2 #90)."""
    error = {"type": anthropic_error_type(err), "message": err.message}
    if request_id is None:
        return {"error": error, "type": "error"}
    return {"type": "error", "error": error, "request_id": request_id}


def _anthropic_response(err: EmulatorError, request_id: str | None) -> Response:
    return Response(
        orjson.dumps(anthropic_error_body(err, request_id)),
        status_code=err.status,
        media_type="application/json",
        headers=err.headers,
    )


def platform_error_response(err: EmulatorError, request_id: str) -> Response:
    """The Open Platform Anthropic route's mixed shapes (§14)."""
    if err.html:
        return html_response(err)
    if err.status in _PLATFORM_OPENAI_SHAPED:
        return openai_error_response(err)
    return _anthropic_response(err, request_id)


def coding_error_response(err: EmulatorError) -> Response:
    """The Kimi Code Anthropic face: Anthropic's envelope throughout (§13.4)."""
    if err.html:
        return html_response(err)
    return _anthropic_response(err, None)

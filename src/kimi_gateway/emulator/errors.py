"""The emulator's one error type, Kimi's error catalogue, and the OpenAI-shape/HTML renderings.

Everything a face can answer with is an `EmulatorError`. Each face renders it in its own shape;
this module renders the Open Platform OpenAI shape `{"error":{"type","message"}}` (docs/kimi.md
§2.1, `code` omitted) and the nginx-style HTML pages (404 for unknown paths, 504 gateway timeout,
§2.2, §13.2). Message texts are Kimi's, quoted from docs/kimi.md §2.2/§2.3/§13.4 unless a comment
says the text is the emulator's own invention (Kimi publishes none for that case).
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

# docs/kimi.md §2.2 [O] HC: the verbatim messages of the catalogue.
CONTENT_FILTER_MESSAGE = "The request was rejected because it was considered high risk"
OVERLOADED_MESSAGE = "The engine is currently overloaded, please try again later"
INCORRECT_KEY_MESSAGE = "Incorrect API key provided"
INVALID_AUTH_MESSAGE = "Invalid Authentication"
# §13.4 [O] KCDOCS (abridged there; the emulator uses the abridged text).
KIMI_CODE_INVALID_KEY_MESSAGE = "The API Key appears to be invalid or may have expired"
# §1 [O] KCDOCS error reference.
CODING_AGENTS_ONLY_MESSAGE = "Kimi For Coding is currently only available for Coding Agents"
MODEL_NOT_FOUND_MESSAGE = "Not found the model or Permission denied"
# §2.2 [O-code] KOSONG-TS (status 413).
TOO_LARGE_MESSAGE = "Request exceeds the maximum size"
# Invented: Kimi documents the 500/503 types but no message text (§2.2 "—").
SERVER_ERROR_MESSAGE = "Internal server error, please try again later"
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable, please try again later"

_NGINX_TITLES = {
    404: "404 Not Found",
    413: "413 Request Entity Too Large",
    502: "502 Bad Gateway",
    504: "504 Gateway Time-out",
}


class EmulatorError(Exception):
    """An answer other than success: status, Kimi's `error.type` and message, extra headers.

    `html=True` marks the nginx-style pages (unknown path 404, gateway 504) that carry no JSON.
    """

    def __init__(
        self,
        status: int,
        message: str,
        type: str | None = "invalid_request_error",
        *,
        headers: dict[str, str] | None = None,
        html: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})
        self.html = html

    def __repr__(self) -> str:
        return f"EmulatorError({self.status}, {self.type!r}, {self.message!r})"

    def openai_body(self) -> dict[str, object]:
        """The Open Platform envelope, §2.1: `code` is omitted (never seen filled)."""
        error: dict[str, object] = {"message": self.message}
        if self.type is not None:
            error = {"type": self.type, "message": self.message}
        return {"error": error}


def _retry_headers(seconds: int) -> dict[str, str]:
    # §1.1 [3M] HALRO: 429s carry both `retry-after` and `x-retry-after`.
    return {"Retry-After": str(seconds), "x-retry-after": str(seconds)}


def invalid_request(message: str) -> EmulatorError:
    return EmulatorError(400, message, "invalid_request_error")


def empty_message(index: int, role: str) -> EmulatorError:
    # §2.3 [O-code] KOSONG-TS tests (assistant); the same form for other roles by analogy.
    return invalid_request(f"the message at position {index} with role '{role}' must not be empty")


def text_content_empty() -> EmulatorError:
    # §2.3/§8.2 [O-code] KOSONG-PY: an empty text part (or "" beside tool_calls).
    return invalid_request("text content is empty")


def unsupported_image_url() -> EmulatorError:
    # §2.3/§5.2 [O] KCDOCS on Kimi Code; [3M] HALRO on the platform.
    return invalid_request("unsupported image url")


def tool_call_not_found(call_id: str) -> EmulatorError:
    """§2.3 [O-code] KOSONG-TS tests: two spaces when the id is empty."""
    if not call_id:
        return invalid_request("tool_call_id  is not found")
    return invalid_request(f"tool_call_id '{call_id}' is not found")


def no_messages() -> EmulatorError:
    return invalid_request("Invalid request: messages must not be empty")  # invented


def content_filter() -> EmulatorError:
    return EmulatorError(400, CONTENT_FILTER_MESSAGE, "content_filter")


def incorrect_api_key() -> EmulatorError:
    return EmulatorError(401, INCORRECT_KEY_MESSAGE, "incorrect_api_key_error")


def invalid_authentication(message: str = INVALID_AUTH_MESSAGE) -> EmulatorError:
    return EmulatorError(401, message, "invalid_authentication_error")


def access_terminated() -> EmulatorError:
    # §1: the type string is [3M] (lakehouse gateway commit; HERMES).
    return EmulatorError(403, CODING_AGENTS_ONLY_MESSAGE, "access_terminated_error")


def model_not_found(message: str = MODEL_NOT_FOUND_MESSAGE) -> EmulatorError:
    return EmulatorError(404, message, "resource_not_found_error")


def request_too_large() -> EmulatorError:
    # §2.2: the type of the 413 is unknown ("?"), so the envelope carries only the message.
    return EmulatorError(413, TOO_LARGE_MESSAGE, None)


def engine_overloaded(retry_after: int = 1) -> EmulatorError:
    return EmulatorError(
        429, OVERLOADED_MESSAGE, "engine_overloaded_error", headers=_retry_headers(retry_after)
    )


def rate_limited(message: str, retry_after: int = 1) -> EmulatorError:
    return EmulatorError(
        429, message, "rate_limit_reached_error", headers=_retry_headers(retry_after)
    )


def quota_exceeded(token_credit: str) -> EmulatorError:
    # §2.2: 429 is the current (HC, 2026) status; the 403 variant is from older docs only.
    # No Retry-After: §2.4 says quota exhaustion must not be retried.
    message = (
        f"You exceeded your current token quota: {token_credit}, please check your account balance"
    )
    return EmulatorError(429, message, "exceeded_current_quota_error")


def server_error() -> EmulatorError:
    return EmulatorError(500, SERVER_ERROR_MESSAGE, "server_error")


def server_unavailable() -> EmulatorError:
    return EmulatorError(503, UNAVAILABLE_MESSAGE, "server_unavailable")


def unexpected_output() -> EmulatorError:
    # §2.2 [O] DOCS-OLD / HC: 500 `unexpected_output` "invalid state transition" (no trigger
    # is known, so only a scripted `@@error:500:unexpected_output@@` produces it).
    return EmulatorError(500, "invalid state transition", "unexpected_output")


def membership_unverified() -> EmulatorError:
    # §13.4 [O] KCDOCS: Kimi Code's 402 when the membership lapsed; its type is unpublished.
    return EmulatorError(402, "unable to verify your membership benefits", None)


def gateway_timeout() -> EmulatorError:
    # §2.2/§17.7: the 504 comes from a gateway and is usually an HTML page.
    return EmulatorError(504, _NGINX_TITLES[504], None, html=True)


def not_found_page() -> EmulatorError:
    # §13.2 [3M] HERMES, shipsolo note: wrong paths get nginx's HTML 404.
    return EmulatorError(404, _NGINX_TITLES[404], None, html=True)


_BY_TYPE = {
    "content_filter": content_filter,
    "engine_overloaded_error": engine_overloaded,
    "server_error": server_error,
    "server_unavailable": server_unavailable,
    "incorrect_api_key_error": incorrect_api_key,
    "invalid_authentication_error": invalid_authentication,
    "access_terminated_error": access_terminated,
    "resource_not_found_error": model_not_found,
    "unexpected_output": unexpected_output,
}

_BY_STATUS = {
    401: invalid_authentication,
    402: membership_unverified,
    403: lambda: EmulatorError(
        403, "The API you are accessing is not open", "permission_denied_error"
    ),
    404: model_not_found,
    413: request_too_large,
    429: engine_overloaded,
    500: server_error,
    503: server_unavailable,
    504: gateway_timeout,
}


def scripted_error(status: int, type_: str | None = None) -> EmulatorError:
    """The error a `@@error:STATUS[:TYPE]@@` marker asks for, with Kimi's text where known."""
    if type_ == "exceeded_current_quota_error":
        return quota_exceeded("0")
    if type_ == "rate_limit_reached_error":
        return rate_limited(
            "Your account emulator<ak-emulator> request reached max request: 3, "
            "please try again after 1 seconds"
        )
    make = _BY_TYPE.get(type_ or "") or _BY_STATUS.get(status)
    if make is not None:
        made = make()
        if made.status == status and (type_ is None or made.type == type_):
            return made
        return EmulatorError(status, made.message, type_ or made.type, headers=made.headers)
    message = f"Invalid request: scripted error {status}"
    return EmulatorError(status, message, type_ or _default_type(status))


def _default_type(status: int) -> str:
    return "invalid_request_error" if status < 500 else "server_error"


def nginx_page(status: int) -> bytes:
    """nginx's default error page, byte for byte (CRLF line ends)."""
    title = _NGINX_TITLES.get(status, f"{status} Error")
    lines = [
        "<html>",
        f"<head><title>{title}</title></head>",
        "<body>",
        f"<center><h1>{title}</h1></center>",
        "<hr><center>nginx</center>",
        "</body>",
        "</html>",
        "",
    ]
    return "\r\n".join(lines).encode()


def html_response(err: EmulatorError) -> Response:
    return Response(
        nginx_page(err.status),
        status_code=err.status,
        media_type="text/html",
        headers={"Server": "nginx", **err.headers},
    )


def openai_error_response(err: EmulatorError) -> Response:
    """Render in the Open Platform / Kimi Code OpenAI shape (§2.1), or as HTML when `html`."""
    if err.html:
        return html_response(err)
    return Response(
        orjson.dumps(err.openai_body()),
        status_code=err.status,
        media_type="application/json",
        headers=err.headers,
    )

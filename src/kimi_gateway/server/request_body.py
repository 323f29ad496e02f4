"""A request body from bytes to a JSON object or a canonical Request, bounded, and off the event
loop when it is large (issue 10 item 4).

One legal 32 MiB body of a million tiny messages kept the loop busy for half a minute:
``/healthz`` waited 22-33 s. Two things now hold:

- Before parsing, the JSON values in the body are bounded (``security.requests.
  max_json_values``): a body shorter than twice the limit cannot hold more (nothing to count);
  a longer one has its commas and opening brackets counted at C speed, strings included (an
  upper bound); only when that passes the limit are they counted exactly, outside strings, so
  text full of commas is not refused for them. That bounds the parse itself, which cannot be
  interrupted: the decoder holds the GIL for a whole document (core/large_json.py: msgspec for
  large bodies, 11-20 ms for the largest allowed, where orjson took 34-57 ms).
- Bodies of ``security.requests.offload_bytes`` or more are decoded and parsed in a worker
  thread, and the exchange is marked heavy so the upstream translates and encodes off the loop
  too (core/upstream.py ``CallContext.heavy``). Python code in a thread gives the GIL back every
  few milliseconds, so other requests keep being served. Smaller bodies stay on the loop: a
  thread hop costs more than parsing them.

What does not belong here: reading the body (server/asgi.py), the work limits on the parsed
request (engine/limits.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import re
import threading
from collections.abc import Callable
from typing import Any

from kimi_gateway.core import large_json
from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.model import Request
from kimi_gateway.dialects import anthropic_messages, openai_chat
from kimi_gateway.dialects.message_memo import MessageMemo
from kimi_gateway.dialects.raw_messages import Undecodable, split_body
from kimi_gateway.dialects.registry import Dialect

_COUNT_SLICE = 1 << 20  # count in 1 MiB slices: the GIL can change hands between them
# A JSON string (escapes included), or a comma or an opening bracket outside one.
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[,{\[]')


def json_values_bound(raw: bytes) -> int:
    """An upper bound on the number of JSON values in ``raw``: every value but the first follows
    a comma or opens a container (keys are as many as their values)."""
    total = 1
    for start in range(0, len(raw), _COUNT_SLICE):
        end = start + _COUNT_SLICE
        total += raw.count(b",", start, end) + raw.count(b"{", start, end)
        total += raw.count(b"[", start, end)
    return total


def json_values(raw: bytes, limit: int) -> int:
    """The JSON values in ``raw``, bounded: by its length when that is within ``limit`` (every
    value but one takes two bytes at least, itself and the comma or bracket before it, so a
    document holds at most ``(len + 1) // 2``; the common case, nothing to count), else the
    fast count when that is within it, else the exact count of commas and opening brackets
    outside strings (stopping once past ``limit``; a Python loop over matches, so the GIL
    changes hands while it runs in a thread)."""
    by_length = (len(raw) + 1) // 2
    if by_length <= limit:
        return by_length
    bound = json_values_bound(raw)
    if bound <= limit:
        return bound
    count = 1
    for match in _TOKEN.finditer(raw):
        if match.end() - match.start() == 1:  # a string is at least two bytes long
            count += 1
            if count > limit:
                break
    return count


def decode_object(raw: bytes, max_values: int) -> dict[str, Any]:
    """``raw`` as a JSON object, or a 400 naming the problem."""
    _check_values(raw, max_values)
    return _decoded(raw)


def _check_values(raw: bytes, max_values: int) -> None:
    if json_values(raw, max_values) > max_values:
        raise GatewayError(
            "invalid_request",
            f"request body is too complex: more than {max_values} JSON values (this "
            "gateway's limit: security.requests.max_json_values)",
        )


def _decoded(raw: bytes) -> dict[str, Any]:
    try:
        body = large_json.loads(raw)
    except large_json.InvalidJSON as exc:
        raise GatewayError("invalid_request", f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise GatewayError("invalid_request", "request body must be a JSON object")
    return body


def parse_request(
    raw: bytes,
    dialect: Dialect,
    fill: Callable[[dict[str, Any]], None],
    max_values: int,
    memo: MessageMemo | None = None,
) -> Request:
    """``raw`` decoded, completed by ``fill`` (defaults the route adds) and parsed in
    ``dialect``, with ``memo`` where the dialect looks messages up (issue 15 item 3). Run in a
    worker thread for large bodies: the decoded body is dropped there too, so freeing it does
    not stall the loop either."""
    _check_values(raw, max_values)
    memo_parse = _MEMO_PARSERS.get(dialect.name) if memo is not None else None
    if memo_parse is not None and memo is not None and _RAW_MIN <= len(raw) < _RAW_MAX:
        split = split_body(raw)
        if split is not None:
            fill(split)
            try:
                return memo_parse(split, memo)
            except Undecodable:
                pass  # the usual decode below says what is wrong
    body = _decoded(raw)
    fill(body)
    if memo_parse is not None and memo is not None:
        request = memo_parse(body, memo)
    else:
        request = dialect.parse_request(body)
    del body
    return request


# Bodies split with their messages kept as bytes (dialects/raw_messages.py): from the size of
# a conversation worth resuming; below the size that is decoded with msgspec and whose freeing
# is handed back (core/large_json.py), where a million tiny messages would be a million Raws.
_RAW_MIN = 16 << 10
_RAW_MAX = large_json.LARGE


# The dialects whose parsers look messages up in a MessageMemo (dialects/message_memo.py).
_MEMO_PARSERS: dict[str, Callable[[dict[str, Any], MessageMemo], Request]] = {
    "anthropic_messages": lambda body, memo: anthropic_messages.parse_request(body, memo=memo),
    "openai_chat": lambda body, memo: openai_chat.parse_request(body, memo=memo),
}


def _libc_function(name: str) -> Callable[..., int] | None:
    """A glibc function by name, where there is one (Linux with glibc)."""
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(ctypes.util.find_library("c")), name)
    except (OSError, AttributeError, TypeError):
        return None
    return function


_M_MMAP_THRESHOLD = -3  # mallopt parameter (glibc malloc.h)
# Bodies from this size on leave enough freed heap behind to be worth handing back (smaller
# ones' memory is reused by the next requests as it is).
RELEASE_AFTER_BYTES = 4 << 20


def tune_malloc() -> None:
    """Serve every allocation of 1 MiB or more from its own mapping, returned to the system when
    freed. glibc's default threshold grows with the largest block freed (up to 32 MiB), so
    after one large body the next ones come from the heap, which keeps them (measured: RSS
    stayed ~75 MB higher after each large request; with this and :class:`MemoryRelease`, it
    returns to where it was)."""
    mallopt = _libc_function("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 1 << 20)


class MemoryRelease:
    """Hands freed heap back to the system after a large request: the issue measured RSS going
    from 83 MB to 760 MB for one request and staying there; glibc returns freed heap only when
    asked (``malloc_trim``). At most once a second, in a thread of its own (ctypes calls release
    the GIL)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._trim = _libc_function("malloc_trim")
        self._clock = clock
        self._last = float("-inf")

    def after_large_request(self) -> None:
        if self._clock() - self._last < 1.0:
            return
        self._last = self._clock()
        # A request that ended in an error can stay in a reference cycle (exception → traceback
        # → frame → the exception) until the cyclic collector runs, which the runner makes rare
        # (_tune_gc): collect now, here on the loop (finalisers belong to its thread; a few ms).
        gc.collect()
        if self._trim is not None:
            threading.Thread(target=self._trim, args=(0,), daemon=True).start()

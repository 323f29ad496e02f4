"""The OpenAI Responses dialect (``/v1/responses``, what Codex CLI speaks, docs/kimi.md §F1).

Pure translation between the Responses wire JSON and the canonical model in core/: request.py
(top level), items.py / items_render.py (the ``input`` items), content.py (message parts),
tools.py, response.py and usage.py (the ``response`` object), stream_parse.py /
stream_render.py (the typed SSE events), errors.py, wire.py (typed field readers). What a
server serving the API adds (still pure): envelope.py (its own ids, echoed parameters),
seal.py (reasoning ``encrypted_content``), input_items.py (stored items, a stored chain as
input), namespaces.py (namespace tools flattened and split). ``previous_response_id`` and
``conversation`` are refused by the parser: the server resolves them (server/responses_create.py).
"""

from kimi_gateway.dialects.openai_responses.errors import parse_error, render_error
from kimi_gateway.dialects.openai_responses.request import parse_request, render_request
from kimi_gateway.dialects.openai_responses.response import parse_response, render_response
from kimi_gateway.dialects.openai_responses.stream_parse import StreamParser
from kimi_gateway.dialects.openai_responses.stream_render import StreamRenderer

__all__ = [
    "StreamParser",
    "StreamRenderer",
    "parse_error",
    "parse_request",
    "parse_response",
    "render_error",
    "render_request",
    "render_response",
]

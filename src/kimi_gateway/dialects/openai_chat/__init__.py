"""The OpenAI Chat Completions dialect: requests, responses, streams and errors, both ways.

Pure translation between the wire JSON of ``/v1/chat/completions`` (as OpenAI clients send it and
as Kimi's Open Platform answers it, docs/kimi.md §5-7) and the canonical model in core/. Kimi
fix-ups are not here (upstreams/kimi/quirks.py). Modules: request.py (top level), messages.py,
content.py, tools.py, response.py, usage.py, stream_parse.py, stream_render.py, errors.py,
wire.py (typed field readers).
"""

from kimi_gateway.dialects.openai_chat.errors import parse_error, render_error
from kimi_gateway.dialects.openai_chat.request import (
    parse_request,
    render_request,
    reply_options,
)
from kimi_gateway.dialects.openai_chat.response import parse_response, render_response
from kimi_gateway.dialects.openai_chat.stream_parse import StreamParser
from kimi_gateway.dialects.openai_chat.stream_render import StreamRenderer

__all__ = [
    "StreamParser",
    "StreamRenderer",
    "parse_error",
    "parse_request",
    "parse_response",
    "render_error",
    "render_request",
    "render_response",
    "reply_options",
]

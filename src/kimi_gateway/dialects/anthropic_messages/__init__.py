"""The Anthropic Messages dialect: requests, responses, streams and errors, parsed and rendered.

Pure translation between the Anthropic wire format and the canonical model (core/), exporting the
translation contract's eight names. Kimi-specific fix-ups are not here
(upstreams/kimi/quirks.py). Modules: request.py with tools.py, content.py (blocks → parts) and
content_render.py (parts → blocks); response.py (replies, usage, stop reasons); stream_parse.py;
stream_render.py; errors.py; tool_ids.py (the reversible tool-id encoding); fields.py (typed
field reads that name the failing field).
"""

from kimi_gateway.dialects.anthropic_messages.errors import parse_error, render_error
from kimi_gateway.dialects.anthropic_messages.request import parse_request, render_request
from kimi_gateway.dialects.anthropic_messages.response import parse_response, render_response
from kimi_gateway.dialects.anthropic_messages.stream_parse import StreamParser
from kimi_gateway.dialects.anthropic_messages.stream_render import StreamRenderer

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

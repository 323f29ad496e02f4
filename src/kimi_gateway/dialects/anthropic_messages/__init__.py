"""The Anthropic Messages dialect: requests, responses, streams and errors, parsed and rendered.

Pure translation between the Anthropic wire format and the canonical model (core/), following
the translation contract: the same eight names as every dialect package. Kimi-specific fix-ups
are not here (upstreams/kimi/quirks.py). Modules: request.py (+ tools.py, content.py,
content_render.py), response.py, stream_parse.py, stream_render.py, errors.py, tool_ids.py.
"""

from kimi_gateway.dialects.anthropic_messages.request import parse_request, render_request

__all__ = ["parse_request", "render_request"]

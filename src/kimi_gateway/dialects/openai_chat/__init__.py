"""The OpenAI Chat Completions dialect: requests, responses, streams and errors, both ways.

Pure translation between the wire JSON of ``/v1/chat/completions`` (as OpenAI clients send it and
as Kimi's Open Platform answers it, kimi-api.md §5-7) and the canonical model in core/. Kimi
fix-ups are not here (upstreams/kimi/quirks.py).
"""

from kimi_gateway.dialects.openai_chat.request import parse_request, render_request

__all__ = ["parse_request", "render_request"]

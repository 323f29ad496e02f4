"""kimi-gateway: run Kimi behind OpenAI- and Anthropic-speaking clients."""

__version__ = "0.1.0"

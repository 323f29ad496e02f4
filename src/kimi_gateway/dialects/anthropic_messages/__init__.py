"""dialects/anthropic_messages."""

"""dialects/openai_chat."""

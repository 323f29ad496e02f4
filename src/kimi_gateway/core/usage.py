"""Token usage with field names that say what they include (DESIGN.md §4.10).

OpenAI ``prompt_tokens`` includes cached tokens; Anthropic ``input_tokens`` does not
(docs/kimi.md §6, §14, docs/kimi.md §F2.4). Dialects convert at their boundary; inside, only these
fields exist.
"""

from __future__ import annotations

from kimi_gateway.core.records import record


@record
class Usage:
    input_uncached: int = 0  # prompt tokens that were not read from cache
    input_cache_read: int = 0  # prompt tokens served from cache
    input_cache_write: int = 0  # prompt tokens written to cache (Anthropic cache_creation)
    output: int = 0  # generated tokens, reasoning included
    reasoning: int = 0  # the part of ``output`` spent on reasoning

    @property
    def input_total(self) -> int:
        """All prompt tokens: what OpenAI calls ``prompt_tokens``."""
        return self.input_uncached + self.input_cache_read + self.input_cache_write

    @property
    def total(self) -> int:
        return self.input_total + self.output

    def merge(self, later: Usage) -> Usage:
        """Combine a partial report with a later one: non-zero later fields win.

        Streams report input early (Anthropic ``message_start``) and output late
        (``message_delta``); OpenAI reports everything once at the end.
        """
        return Usage(
            input_uncached=later.input_uncached or self.input_uncached,
            input_cache_read=later.input_cache_read or self.input_cache_read,
            input_cache_write=later.input_cache_write or self.input_cache_write,
            output=later.output or self.output,
            reasoning=later.reasoning or self.reasoning,
        )

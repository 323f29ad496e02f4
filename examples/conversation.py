"""A chat that never outgrows the model's context window: when the history gets too long, the
oldest turns are summarised; one prompt_cache_key keeps Kimi's cache warm.

    python examples/conversation.py            # type lines; an empty line ends
    python examples/conversation.py "a" "b"    # or give the turns as arguments
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from kimi_gateway import Kimi


def turns_from_stdin() -> Iterable[str]:
    while line := input("you> ").strip():
        yield line


def main(turns: Iterable[str]) -> None:
    with Kimi() as kimi:
        chat = kimi.conversation(system="You are a concise assistant.")
        for text in turns:
            reply = chat.say(text)
            print("kimi>", reply.text)
        print(
            f"[{chat.last_prompt_tokens} of {chat.budget} input tokens used last turn; "
            f"{chat.summaries} summaries; cache hits {chat.cache_hit_ratio:.0%}]"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or turns_from_stdin())

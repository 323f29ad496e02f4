"""Chat with Kimi from Python, no server: one reply, then the same question streamed.

export KIMI_API_KEY=sk-...          # or KIMI_CODE_API_KEY=sk-kimi-... for Kimi Code
python examples/chat.py ["your question"]
"""

from __future__ import annotations

import sys

from kimi_gateway import Kimi


def main(question: str) -> None:
    with Kimi() as kimi:  # keys, base URLs and the default model come from KIMI_* variables
        result = kimi.chat(question)
        print("reasoning:", result.reasoning or "(none)")
        print("answer:", result.text)
        print("tokens:", result.usage.input_total, "in,", result.usage.output, "out")

        print("streamed: ", end="")
        stream = kimi.chat(question, stream=True)
        for delta in stream:
            print(delta.text, end="", flush=True)
        print()
        print("stop reason:", stream.result.stop_reason)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "In one sentence: what is a context window?")

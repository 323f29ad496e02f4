"""Ask about documents: each file is uploaded to Kimi once (remembered across runs in your data
directory), its text extracted once, then asked about as often as you like.

    python examples/ask_files.py FILE [FILE...] -- "your question"
"""

from __future__ import annotations

import sys

from kimi_gateway import Kimi


def main(paths: list[str], question: str) -> None:
    with Kimi() as kimi:
        result = kimi.files.ask(paths, question)
        print(result.text)
        print(f"(uploaded this run: {kimi.files.uploads} of {len(paths)} files)")


if __name__ == "__main__":
    args = sys.argv[1:]
    split = args.index("--") if "--" in args else len(args)
    if not args[:split]:
        sys.exit(__doc__)
    main(args[:split], " ".join(args[split + 1 :]) or "Summarise these documents in three lines.")

"""Run as a separate process by test_files.py: ask about one file with settings from the
environment (KIMI_API_KEY, KIMI_BASE_URL, KIMI_GATEWAY_DATA_DIR), print what happened."""

from __future__ import annotations

import sys

import orjson

from kimi_gateway import Kimi


def main(path: str) -> None:
    with Kimi() as kimi:
        result = kimi.files.ask(path, "What does it say? @@text:It says hello.@@")
        print(orjson.dumps({"uploads": kimi.files.uploads, "text": result.text}).decode())


if __name__ == "__main__":
    main(sys.argv[1])

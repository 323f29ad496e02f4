"""AsyncKimi: several questions at once on one client (one connection pool), with streaming.

python examples/async_agents.py ["question" ...]
"""

from __future__ import annotations

import asyncio
import sys

from kimi_gateway import AsyncKimi


async def ask(kimi: AsyncKimi, question: str) -> str:
    stream = await kimi.chat(question, stream=True)
    pieces = [delta.text async for delta in stream]
    return "".join(pieces)


async def main(questions: list[str]) -> None:
    async with AsyncKimi() as kimi:
        answers = await asyncio.gather(*(ask(kimi, q) for q in questions))
        for question, answer in zip(questions, answers, strict=True):
            print(f"Q: {question}\nA: {answer}\n")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["Name a prime number.", "Name a colour.", "Name a river."]))

"""A tool-calling agent: plain Python functions as tools, run until Kimi answers.

Arguments are checked against each function's type hints before it runs; a tool that Kimi
keeps calling with the same arguments is stopped; every call is audited.

    python examples/tool_loop.py ["your question"]
"""

from __future__ import annotations

import sys

from kimi_gateway import Kimi, tool

CITIES = {"paris": (48.86, 2.35), "tokyo": (35.68, 139.69), "lima": (-12.05, -77.04)}


def locate(city: str) -> dict[str, float]:
    """Find a city's coordinates.

    Args:
        city: the city's name, in English
    """
    lat, lon = CITIES[city.lower()]  # an unknown city raises: Kimi is told, and can recover
    return {"lat": lat, "lon": lon}


@tool(timeout=10)
def weather(lat: float, lon: float) -> str:
    """The current weather at a place.

    Args:
        lat: latitude in degrees
        lon: longitude in degrees
    """
    return "sunny, 21 °C" if lat > 0 else "overcast, 16 °C"


def main(question: str) -> None:
    with Kimi() as kimi:
        run = kimi.run_tools(question, tools=[locate, weather], max_steps=6)
        for audit in run.audit:
            took = f"{audit.duration:.3f} s"
            print(f"called {audit.name}({audit.arguments}) -> {audit.outcome} in {took}")
        print(f"answer ({len(run.steps)} model turns, ended: {run.stopped}): {run.text}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What's the weather in Paris right now?")

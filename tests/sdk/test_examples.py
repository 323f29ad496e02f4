"""Every program in examples/ runs against the emulator as a real server, with the environment a
user would set (KIMI_API_KEY, KIMI_BASE_URL, a data directory) and scripted prompts as
arguments; a new example without a case here fails the first test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_gateway.emulator.server import EmulatorServer

from .conftest import PLATFORM_KEY

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# example → (arguments, lines or fragments its output must contain)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "chat.py": (
        ["@@text:It is how much text a model can read at once.@@"],
        ["answer: It is how much text a model can read at once.", "stop reason: end_turn"],
    ),
    "tool_loop.py": (
        ['Weather? @@tool:locate {"city": "Paris"}@@ @@tool:weather {"lat": 48.86, "lon": 2.35}@@'],
        [
            'called locate({"city": "Paris"}) -> ok',
            'called weather({"lat": 48.86, "lon": 2.35}) -> ok',
            'TOOL_RESULT_SEEN: {"lat":48.86,"lon":2.35}',
            "sunny, 21 °C",
            "(2 model turns, ended: answered)",
        ],
    ),
    "ask_files.py": (
        ["{doc}", "--", "When? @@text:On Friday.@@"],
        ["On Friday.", "(uploaded this run: 1 of 1 files)"],
    ),
    "conversation.py": (
        ["@@text:Hi!@@", "@@text:Still here.@@"],
        ["kimi> Hi!", "kimi> Still here.", "0 summaries"],
    ),
    "models.py": ([], ["kimi-k2.6", "262,144 tokens", "kimi-k3"]),
    "async_agents.py": (
        ["@@text:7@@", "@@text:blue@@"],
        ["Q: @@text:7@@\nA: 7", "Q: @@text:blue@@\nA: blue"],
    ),
}


def test_every_example_has_a_case() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_against_the_emulator(
    name: str, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    doc = tmp_path / "plan.txt"
    doc.write_text("The launch is on Friday.")
    arguments, expected = CASES[name]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))},
        "KIMI_API_KEY": PLATFORM_KEY,
        "KIMI_BASE_URL": kimi_emulator.platform_url,
        "KIMI_GATEWAY_DATA_DIR": str(tmp_path / "data"),
    }
    command = [
        sys.executable,
        str(EXAMPLES / name),
        *(str(doc) if a == "{doc}" else a for a in arguments),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for fragment in expected:
        assert fragment in done.stdout, done.stdout
    assert all(r["status"] == 200 for r in kimi_emulator.requests())

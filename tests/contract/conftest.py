"""Fixtures of the contract suite: one engine runner for the session (an event loop thread
and its aiohttp session) and the shared conversation runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kimi_gateway.emulator.server import EmulatorServer

from .case_model import Case
from .conversation import Conversations
from .pipeline import Outcome, Pair, Runner

Converse = Callable[[Case, Pair, bool], list[Outcome]]


@pytest.fixture(scope="session")
def http() -> Iterator[Runner]:
    """The engine runner (an event loop thread with one aiohttp session)."""
    runner = Runner()
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def conversation_runs(http: Runner) -> Conversations:
    return Conversations(http)


@pytest.fixture
def conversations(kimi_emulator: EmulatorServer, conversation_runs: Conversations) -> Converse:
    """``conversations(case, pair, stream)``: the outcome of every turn (run on first use)."""

    def get(case: Case, pair: Pair, stream: bool) -> list[Outcome]:
        return conversation_runs.get(kimi_emulator, case, pair, stream)

    return get

"""Fixtures of the contract suite: one HTTP client for the session (creating one per request
costs more than the request) and the shared conversation runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from kimi_gateway.emulator.server import EmulatorServer

from .case_model import Case
from .conversation import Conversations
from .pipeline import Outcome, Pair

Converse = Callable[[Case, Pair, bool], list[Outcome]]


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def conversation_runs(http: httpx.Client) -> Conversations:
    return Conversations(http)


@pytest.fixture
def conversations(kimi_emulator: EmulatorServer, conversation_runs: Conversations) -> Converse:
    """``conversations(case, pair, stream)``: the outcome of every turn (run on first use)."""

    def get(case: Case, pair: Pair, stream: bool) -> list[Outcome]:
        return conversation_runs.get(kimi_emulator, case, pair, stream)

    return get

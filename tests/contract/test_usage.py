"""Usage through every pair: the client is shown what Kimi reported, in its own dialect's
convention (OpenAI prompt_tokens includes cached tokens; Anthropic input_tokens excludes cache
reads), and its SDK reads the same numbers back."""

from __future__ import annotations

import pytest

from kimi_gateway.core.usage import Usage

from . import sdk_view
from .case_model import Case
from .cases import CASES, CASES_BY_NAME
from .conftest import Converse
from .pipeline import ALL_PAIRS, Pair
from .surfaces import UPSTREAMS, Upstream
from .usage_view import client_usages, shown_to, upstream_usage

MODES = [pytest.param(False, id="json"), pytest.param(True, id="sse")]


@pytest.mark.parametrize("stream", MODES)
@pytest.mark.parametrize("pair", ALL_PAIRS, ids=lambda p: p.id)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_usage_follows_each_dialect(
    conversations: Converse, case: Case, pair: Pair, stream: bool
) -> None:
    for outcome in conversations(case, pair, stream):
        reported = upstream_usage(outcome)
        assert reported.input_total > 0
        assert reported.output > 0
        # One usage object in a JSON reply or an Anthropic stream's message_delta; an OpenAI
        # stream shows it on the finish chunk and on the include_usage chunk.
        count = 2 if stream and pair.client == "openai" else 1
        assert client_usages(outcome) == [shown_to(pair.client, reported)] * count
        seen = sdk_view.read(pair.client, outcome.body, outcome.sse).usage
        assert seen == reported


@pytest.mark.parametrize("stream", MODES)
@pytest.mark.parametrize("upstream", UPSTREAMS.values(), ids=lambda u: u.name)
def test_cached_tokens_in_each_dialect(
    conversations: Converse, upstream: Upstream, stream: bool
) -> None:
    """The same prefix twice: the second request has cached tokens, which an OpenAI client sees
    inside prompt_tokens and an Anthropic client beside input_tokens."""
    case = CASES_BY_NAME["cached_prefix"]
    second = {
        client: conversations(case, Pair(client, upstream), stream)[1]
        for client in ("openai", "anthropic")
    }
    reported = upstream_usage(second["openai"])
    assert reported == upstream_usage(second["anthropic"])  # the same request both ways
    cached, uncached = reported.input_cache_read, reported.input_uncached
    assert cached > 0
    assert uncached > 0
    openai_usage = client_usages(second["openai"])[-1]
    anthropic_usage = client_usages(second["anthropic"])[-1]
    assert openai_usage["prompt_tokens"] == cached + uncached
    assert openai_usage["prompt_tokens_details"] == {"cached_tokens": cached}
    assert anthropic_usage["input_tokens"] == uncached
    assert anthropic_usage["cache_read_input_tokens"] == cached
    assert anthropic_usage["cache_creation_input_tokens"] == 0
    assert reported == Usage(uncached, cached, 0, reported.output, reported.reasoning)

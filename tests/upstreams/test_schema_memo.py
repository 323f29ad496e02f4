"""upstreams/kimi/schema_memo: tool schemas made MFJS once per upstream (issue 15 item 3).
The memo's answer is the normaliser's (hypothesis over JSON-Schema-like values, the refused
ones included), it tells a tuple from a list as the normaliser does, and the quirk pipeline
renders the same body with it as without it while looking each of Claude Code's schemas up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.core.model import Request
from kimi_gateway.dialects.anthropic_messages import parse_request
from kimi_gateway.upstreams.kimi.adapter import PLATFORM_GLOBAL, build_upstream_request
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy
from kimi_gateway.upstreams.kimi.profiles import profile_for
from kimi_gateway.upstreams.kimi.schema_memo import SchemaMemo, normalised
from kimi_gateway.upstreams.kimi.schema_mfjs import SchemaError, normalise_schema

CLAUDE_CODE = Path(__file__).parents[1] / "fixtures/clients/claude_code_tool_result_request.json"
LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=4)
)
KEYS = st.sampled_from(
    ["type", "properties", "items", "enum", "anyOf", "$ref", "$defs", "const", "required", "x"]
)
SCHEMA = st.recursive(
    LEAF | st.sampled_from(["object", "string", "integer", "number", "array", "#/$defs/a", "#/x"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=15,
)


def _outcome(schema: Any, memo: SchemaMemo | None) -> Any:
    try:
        return normalised(schema, memo)
    except (SchemaError, TypeError, AttributeError) as exc:  # whatever the normaliser raises
        return ("raised", type(exc), str(exc))


@settings(max_examples=300, deadline=None)
@given(schemas=st.lists(st.dictionaries(KEYS, SCHEMA, max_size=4), min_size=1, max_size=6))
def test_the_memo_answers_what_the_normaliser_answers(schemas: list[dict[str, Any]]) -> None:
    memo: SchemaMemo = BytesLRU(1 << 20)
    for schema in [*schemas, *schemas]:  # the second time from the memo
        decoded = orjson.loads(orjson.dumps(schema))
        assert _outcome(decoded, memo) == _outcome(decoded, None)


def test_a_tuple_is_not_a_list_to_the_memo() -> None:
    memo: SchemaMemo = BytesLRU(1 << 20)
    as_list = {"type": "object", "properties": {"a": {"enum": ["x", 1]}}}
    as_tuple = {"type": "object", "properties": {"a": {"enum": ("x", 1)}}}
    assert normalised(as_list, memo) == normalise_schema(as_list)
    assert normalised(as_tuple, memo) == normalise_schema(as_tuple)
    assert (memo.hits, memo.misses) == (0, 2)


def test_a_refused_schema_is_refused_again_and_never_stored() -> None:
    memo: SchemaMemo = BytesLRU(1 << 20)
    for _ in range(2):
        with pytest.raises(SchemaError):
            normalised({"type": "string"}, memo)
    assert len(memo) == 0


def test_claude_codes_tools_are_made_mfjs_once_and_render_the_same() -> None:
    body = orjson.loads(CLAUDE_CODE.read_bytes())["body"]

    def fresh() -> Request:  # new Tool objects: nothing kept with them (core/model.py derived)
        return parse_request({**body, "model": "kimi-k2.6"})

    request = fresh()
    profile, policy = profile_for("kimi-k2.6", product="platform"), QuirkPolicy()
    memo: SchemaMemo = BytesLRU(1 << 20)
    plain = build_upstream_request(fresh(), PLATFORM_GLOBAL, profile, policy)
    first = build_upstream_request(request, PLATFORM_GLOBAL, profile, policy, schema_memo=memo)
    second = build_upstream_request(fresh(), PLATFORM_GLOBAL, profile, policy, schema_memo=memo)
    kept = build_upstream_request(request, PLATFORM_GLOBAL, profile, policy, schema_memo=memo)
    assert orjson.dumps(first.body) == orjson.dumps(plain.body) == orjson.dumps(second.body)
    assert orjson.dumps(kept.body) == orjson.dumps(first.body)  # kept with the same tools
    assert first.diagnostics == plain.diagnostics == second.diagnostics == kept.diagnostics
    distinct = {orjson.dumps(t.parameters) for t in request.tools}  # two tools share one
    assert (len(distinct), len(request.tools)) == (23, 24)
    assert (memo.misses, memo.hits) == (23, 25)

"""Tool schemas normalised before, looked up instead of normalised again (issue 15 item 3).

A coding agent sends the same tools every turn (Claude Code: 24 schemas, 15 KB), and making
them Moonshot Flavored JSON Schema (schema_mfjs.py, docs/kimi.md §8.6) was half of the
translation of Claude Code's captured request. ``normalise_schema`` is a pure function of the
schema, so its result is kept by the schema's pickle: an exact key (types included: a tuple is
not a list, a Mapping not a dict, which the normaliser tells apart), at C speed. A schema that
cannot be pickled is normalised without the memo; one the normaliser refuses is never stored,
so the error is raised again by the normaliser itself. Entries are bounded by an estimate of
the memory they hold (core/memo.py; quirks.schema_memo_bytes). The stored schema is shared by
every request that hits it: nothing may change it (the renderers copy what they edit).

What does not belong here: the normalisation itself (schema_mfjs.py), which quirk uses it
(quirks_tools.py).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any, TypeAlias

from kimi_gateway.core.memo import BytesLRU
from kimi_gateway.upstreams.kimi.schema_mfjs import normalise_schema

Normalised: TypeAlias = tuple[dict[str, Any], tuple[str, ...]]
SchemaMemo: TypeAlias = BytesLRU[Normalised]
# Memory held per byte of key: the normalised schema and the key (5.6 measured with
# tracemalloc on Claude Code's 24 schemas).
ENTRY_COST = 6


def normalised(schema: Mapping[str, Any], memo: SchemaMemo | None) -> Normalised:
    """``normalise_schema(schema)``, looked up in ``memo`` when there is one."""
    if memo is None:
        return normalise_schema(schema)
    try:
        key = pickle.dumps(schema, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return normalise_schema(schema)
    hit = memo.get(key)
    if hit is not None:
        return hit
    result = normalise_schema(schema)
    memo.put(key, result, len(key) * ENTRY_COST)
    return result

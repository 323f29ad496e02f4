"""Upstream kinds by name: adding a kind is one module and one line here.

:func:`build_upstreams` turns the settings' upstream entries into Upstreams by name; a kind this
table does not know, or a face name used twice, is a config error naming the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kimi_gateway.core.upstream import Upstream
from kimi_gateway.settings import UpstreamConfig
from kimi_gateway.upstreams.config import BuildContext, UpstreamConfigError
from kimi_gateway.upstreams.kimi.build import build_code, build_platform
from kimi_gateway.upstreams.openai_compatible import build_openai_compatible

Builder = Callable[[UpstreamConfig, BuildContext], list[Upstream]]

KINDS: Mapping[str, Builder] = {
    "kimi_platform": build_platform,
    "kimi_code": build_code,
    "openai_compatible": build_openai_compatible,
}


def build_upstreams(
    entries: Sequence[UpstreamConfig],
    ctx: BuildContext,
    accounts: dict[str, str] | None = None,
) -> dict[str, Upstream]:
    """Every upstream of ``entries``, by name, in entry order. ``accounts``, if given, gets
    each upstream's entry name (the account whose limits its faces share)."""
    upstreams: dict[str, Upstream] = {}
    for entry in entries:
        builder = KINDS.get(entry.kind)
        if builder is None:
            known = ", ".join(KINDS)
            raise UpstreamConfigError(
                f"upstreams entry {entry.name!r}: unknown kind {entry.kind!r} (known: {known})"
            )
        for upstream in builder(entry, ctx):
            if upstream.name in upstreams:
                raise UpstreamConfigError(
                    f"upstreams entry {entry.name!r}: the upstream name {upstream.name!r} is "
                    "already taken by another entry"
                )
            upstreams[upstream.name] = upstream
            if accounts is not None:
                accounts[upstream.name] = entry.name
    return upstreams

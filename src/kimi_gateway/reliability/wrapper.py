"""The base of every reliability wrapper: an Upstream that hands everything but ``open`` to the
one it wraps (DESIGN.md §2a: wrappers are Upstreams too, so they compose in any order)."""

from __future__ import annotations

from collections.abc import Callable

from kimi_gateway.core.model import DialectName, Request
from kimi_gateway.core.upstream import CallContext, FilesAPI, ListedModel, Opened, Upstream


class Wrapper:
    """Delegates to ``inner``; subclasses override :meth:`open`."""

    def __init__(self, inner: Upstream) -> None:
        self.inner = inner
        # An upstream's name and model map are fixed for its life: taken once, not through a
        # chain of delegating calls per request (issue 12: wrappers within 10 % of the plain path).
        self.name: str = inner.name
        self.upstream_model: Callable[[str], str] = inner.upstream_model

    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def product(self) -> str:
        return self.inner.product

    @property
    def dialect(self) -> DialectName:
        return self.inner.dialect

    @property
    def files(self) -> FilesAPI | None:
        return self.inner.files

    async def open(self, request: Request, ctx: CallContext) -> Opened:
        return await self.inner.open(request, ctx)

    async def models(self, ctx: CallContext) -> list[ListedModel]:
        return await self.inner.models(ctx)

    async def count_tokens(self, request: Request, ctx: CallContext) -> int:
        return await self.inner.count_tokens(request, ctx)


def innermost(upstream: Upstream) -> Upstream:
    """The upstream under every wrapper."""
    while isinstance(upstream, Wrapper):
        upstream = upstream.inner
    return upstream

"""The thinking signatures one Kimi Anthropic face issued, remembered so that a history's
thinking blocks can be told apart: Kimi's own (replayed byte for byte, docs/kimi.md §13.3) from
foreign ones, such as Claude's after a model switch inside Claude Code, which Kimi cannot verify
and may refuse with a 400 (issue 9 item 7; docs/kimi.md §F2.6: foreign blocks are dropped, not
faked).

Bounded (the oldest issued first out, ``quirks.remembered_signatures``) and per process: a
signature issued before a restart or by another replica counts as foreign, so its block is
dropped and, where Kimi needs thinking on that turn, the quirk layer's ``restore_reasoning``
fills the turn in. Only a digest of each signature is kept.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable

from kimi_gateway.core.events import PartEnd, SignatureDelta
from kimi_gateway.core.model import ThinkingPart
from kimi_gateway.core.upstream import Batch, Opened


def _digest(signature: str) -> bytes:
    return hashlib.sha256(signature.encode()).digest()


class IssuedSignatures:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def __contains__(self, signature: object) -> bool:
        if not isinstance(signature, str):
            return False
        # A read only: requests are translated in worker threads too (upstreams/offload.py).
        return _digest(signature) in self._seen

    def add(self, signature: str) -> None:
        if not signature or self._capacity <= 0:
            return
        digest = _digest(signature)
        self._seen[digest] = None
        self._seen.move_to_end(digest)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def issued(self, signature: str) -> bool:
        return signature in self

    def record(self, opened: Opened) -> Opened:
        """``opened``, its signatures noted as they pass (a whole body's at once)."""
        if opened.complete is not None:
            for part in opened.complete.parts:
                if isinstance(part, ThinkingPart) and part.signature:
                    self.add(part.signature)
            return opened
        pieces: dict[int, list[str]] = {}
        self._note(opened.first, pieces)
        opened.rest = self._noting(opened.rest, pieces)
        return opened

    async def _noting(
        self, rest: AsyncIterator[Batch], pieces: dict[int, list[str]]
    ) -> AsyncIterator[Batch]:
        async for batch in rest:
            self._note(batch, pieces)
            yield batch

    def _note(self, batch: Iterable[object], pieces: dict[int, list[str]]) -> None:
        for event in batch:
            if isinstance(event, SignatureDelta):
                pieces.setdefault(event.index, []).append(event.signature)
            elif isinstance(event, PartEnd) and event.index in pieces:
                self.add("".join(pieces.pop(event.index)))

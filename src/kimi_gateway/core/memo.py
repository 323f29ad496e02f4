"""A bounded memo: values by bytes key, least recently used first out, bounded by size.

What the gateway remembers between requests to do less work on the next one (issue 15 item 3:
a coding agent resends its whole conversation every turn, so the translation of each message it
sent before can be looked up instead of redone). Bounded by an estimate of the memory held (the
caller says what one entry costs), thread-safe (large bodies are parsed in worker threads:
server/request_body.py). The values are immutable canonical objects shared by every request
that hits them; nothing may change them.

What does not belong here: what is memoised and how its key is made (the callers).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class BytesLRU(Generic[V]):
    """``key → value``; :meth:`put` evicts the least recently used entries until the sizes of
    those kept add up to at most ``max_bytes``. An entry larger than that is not kept."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: bytes, value: V, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._entries[key] = (value, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= dropped

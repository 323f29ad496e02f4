"""Budget counters: nano-USD spent or reserved per budget window, checked and charged in one
atomic step, in memory (one gateway) or in Redis (every replica shares them).

``reserve`` charges ``amount`` to every slot at once only if none would pass its limit, and
returns the index of the first that would (docs/kimi.md §F2.14: a check and a separate charge
let parallel requests overspend). In memory that is a check and a charge with no await between
(one event loop). In Redis it is one Lua script (scripts run atomically), so replicas cannot
interleave. ``adjust`` settles a reservation with the actual cost (a negative delta gives back
what was not spent); ``seed`` starts a counter from the ledger's record if it has none yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

# KEYS: the slots' counters. ARGV: amount, then each slot's limit, then each slot's TTL (0: none).
# Returns {0, spent...} when charged, {i} when slot i (from 1) would pass its limit.
_RESERVE = """
local amount = tonumber(ARGV[1])
local n = #KEYS
for i = 1, n do
  local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
  if spent + amount > tonumber(ARGV[1 + i]) then return {i} end
end
local result = {0}
for i = 1, n do
  result[i + 1] = redis.call('INCRBY', KEYS[i], amount)
  local ttl = tonumber(ARGV[1 + n + i])
  if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
end
return result
"""


class Counters(Protocol):
    async def reserve(
        self, slots: Sequence[str], limits: Sequence[int], ttls: Sequence[int], amount: int
    ) -> tuple[int, list[int]]:
        """(-1, spent after) when charged to all; (i, []) when slot i would pass its limit."""
        ...

    async def adjust(self, slots: Sequence[str], delta: int) -> list[int]:
        """Add ``delta`` to each slot; the new values."""
        ...

    async def seed(self, slot: str, value: int, ttl: int) -> None:
        """Set ``slot`` to ``value`` unless it already has a value."""
        ...

    async def spent(self, slot: str) -> int | None: ...

    async def aclose(self) -> None: ...


class MemoryCounters:
    """One process's counters (no Redis): exact within this gateway only."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    async def reserve(
        self, slots: Sequence[str], limits: Sequence[int], ttls: Sequence[int], amount: int
    ) -> tuple[int, list[int]]:
        return self.reserve_now(slots, limits, amount)

    def reserve_now(
        self, slots: Sequence[str], limits: Sequence[int], amount: int
    ) -> tuple[int, list[int]]:
        """:meth:`reserve` without an await (the budget guard calls it directly)."""
        values = self.values
        for index, (slot, limit) in enumerate(zip(slots, limits, strict=True)):
            if values.get(slot, 0) + amount > limit:
                return index, []
        after = []
        for slot in slots:
            values[slot] = value = values.get(slot, 0) + amount
            after.append(value)
        return -1, after

    async def adjust(self, slots: Sequence[str], delta: int) -> list[int]:
        return self.adjust_now(slots, delta)

    def adjust_now(self, slots: Sequence[str], delta: int) -> list[int]:
        """:meth:`adjust` without an await."""
        values = self.values
        after = []
        for slot in slots:
            values[slot] = value = values.get(slot, 0) + delta
            after.append(value)
        return after

    async def seed(self, slot: str, value: int, ttl: int) -> None:
        self.values.setdefault(slot, value)

    async def spent(self, slot: str) -> int | None:
        return self.values.get(slot)

    async def aclose(self) -> None:
        return None


class RedisCounters:
    """Counters in Redis under ``prefix`` (shared by every replica with the same prefix)."""

    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.prefix = prefix
        self._reserve = self.redis.register_script(_RESERVE)

    def _keys(self, slots: Sequence[str]) -> list[str]:
        return [self.prefix + slot for slot in slots]

    async def reserve(
        self, slots: Sequence[str], limits: Sequence[int], ttls: Sequence[int], amount: int
    ) -> tuple[int, list[int]]:
        result = await self._reserve(keys=self._keys(slots), args=[amount, *limits, *ttls])
        if int(result[0]) != 0:
            return int(result[0]) - 1, []
        return -1, [int(v) for v in result[1:]]

    async def adjust(self, slots: Sequence[str], delta: int) -> list[int]:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self._keys(slots):
                pipe.incrby(key, delta)
            return [int(v) for v in await pipe.execute()]

    async def seed(self, slot: str, value: int, ttl: int) -> None:
        await self.redis.set(self.prefix + slot, value, nx=True, ex=ttl or None)

    async def spent(self, slot: str) -> int | None:
        value = await self.redis.get(self.prefix + slot)
        return int(value) if value is not None else None

    async def aclose(self) -> None:
        await self.redis.aclose()

"""``models()``: the model names a client may ask for, each with its capabilities from the
profile table (upstreams/kimi/profiles.py), cached for a TTL.

The names come from the backend (in-process: the engine's merged list of routes and each
product's ``/models``, docs/kimi.md §11; a gateway: its ``/v1/models``); the capabilities from
the profile of the product that serves the name. A name the profiles do not know is listed with
``known=False`` and conservative values (what the quirk layer assumes for it too).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kimi_gateway.upstreams.kimi.profiles import Product, profile_for


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    product: str  # "platform" or "kimi_code"
    context_window: int | None  # tokens; None: unknown
    thinking: str  # "none", "switchable" or "always"
    thinking_default_on: bool
    reasoning_efforts: tuple[str, ...]
    image_input: bool
    video_input: bool
    max_tools: int | None
    max_output_tokens: int | None
    known: bool  # whether the profile table knows the name


def model_info(name: str, product: str | None) -> ModelInfo:
    chosen: Product = "kimi_code" if product == "kimi_code" else "platform"
    profile = profile_for(name, product=chosen)
    return ModelInfo(
        id=name,
        product=profile.product,
        context_window=profile.context_window,
        thinking=profile.thinking,
        thinking_default_on=profile.thinking_default_on,
        reasoning_efforts=profile.reasoning_efforts,
        image_input=profile.image_input,
        video_input=profile.video_input,
        max_tools=profile.max_tools,
        max_output_tokens=profile.max_output_tokens,
        known=profile.known,
    )


class ModelCache:
    """The list, fetched once per ``ttl`` seconds (concurrent callers may both fetch; the
    last answer wins, which is harmless)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entry: tuple[float, list[ModelInfo]] | None = None

    async def get(
        self,
        fetch: Callable[[], Awaitable[list[str]]],
        product_of: Callable[[str], str | None],
        *,
        refresh: bool = False,
    ) -> list[ModelInfo]:
        now = self._clock()
        if not refresh and self._entry is not None and now < self._entry[0]:
            return list(self._entry[1])
        infos = [model_info(name, product_of(name)) for name in await fetch()]
        self._entry = (now + self.ttl, infos)
        return list(infos)

"""Thinking an Anthropic client did not ask for is not shown to it (issue 9 item 5).

Anthropic's Messages API promises no ``thinking`` blocks unless the request turns thinking on;
Kimi thinks by default on most models, and some cannot stop (docs/kimi.md §4.1, §4.2). So for an
Anthropic client whose request has no ``thinking`` or ``thinking.type: "disabled"``, the reply's
thinking parts are removed: :class:`ThinkingFilter` drops their stream events (the Anthropic
renderer numbers the blocks it writes from 0, so the wire indexes stay contiguous) and
:func:`strip_thinking` removes them from a whole reply. Usage is left as Kimi counted it (the
thinking was generated and is billed). ``quirks.show_unrequested_thinking: true`` keeps Kimi's
thinking visible.

The client's next turn then replays its assistant turns without thinking; what the Kimi faces
need for that is the quirk layer's business (upstreams/kimi/quirks_thinking.py
``restore_reasoning``). Pure: no I/O, no state beyond one stream's filter.
"""

from __future__ import annotations

import dataclasses

from kimi_gateway.core.events import PartEnd, PartStart, SignatureDelta, ThinkingDelta
from kimi_gateway.core.model import DialectName, Request, Response, ThinkingPart
from kimi_gateway.core.upstream import Batch


def hides_thinking(request: Request, client: DialectName, show: bool) -> bool:
    """Whether ``request``'s reply must go without thinking: an Anthropic client that did not
    turn thinking on, unless the deployment shows Kimi's thinking anyway."""
    if show or client != "anthropic_messages":
        return False
    return request.thinking is None or request.thinking.mode == "disabled"


class ThinkingFilter:
    """Removes the events of thinking parts from a stream, batch by batch."""

    def __init__(self) -> None:
        self._hidden: set[int] = set()

    def feed(self, batch: Batch) -> Batch:
        """``batch`` without its thinking-part events (possibly empty)."""
        kept: Batch = []
        hidden = self._hidden
        for event in batch:
            if isinstance(event, PartStart):
                if event.kind == "thinking":
                    hidden.add(event.index)
                    continue
                hidden.discard(event.index)  # an index reused by a later part
            # Runs per event: the cheap tests first (exact types: the event classes are final).
            elif hidden and type(event) in _PART_EVENTS and event.index in hidden:  # type: ignore[union-attr]
                continue
            kept.append(event)
        return kept


_PART_EVENTS = frozenset({ThinkingDelta, SignatureDelta, PartEnd})


def strip_thinking(response: Response) -> Response:
    """``response`` without its thinking parts."""
    parts = tuple(part for part in response.parts if not isinstance(part, ThinkingPart))
    if len(parts) == len(response.parts):
        return response
    return dataclasses.replace(response, parts=parts)

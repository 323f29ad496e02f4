"""What a model list says about a Kimi model, in Kimi's own ``/v1/models`` fields
(docs/kimi.md §11 [O] OAS: ``context_length``, ``supports_image_in``, ``supports_video_in``,
``supports_reasoning``).

Kimi's list is kept as it came (every field beyond the envelope); these helpers read it, and
stand in for it from the profile table (profiles.py) where there is no list entry: a route
name (alias), or a product whose ``/models`` could not be reached. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from kimi_gateway.core.upstream import ListedModel
from kimi_gateway.upstreams.kimi.profiles import ModelProfile, Product, profile_for

# The envelope of a list entry: the gateway writes its own (the id may be an alias).
ENVELOPE = frozenset({"id", "object", "created", "owned_by"})


def from_wire(entry: Mapping[str, object]) -> ListedModel | None:
    """One entry of Kimi's ``/models`` ``data``; None when it has no id."""
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    return ListedModel(model_id, {k: v for k, v in entry.items() if k not in ENVELOPE})


def profile_info(profile: ModelProfile) -> dict[str, object]:
    """The profile's capabilities under Kimi's list field names; empty for an unknown name
    (the table's conservative default is a guess, not a fact to advertise)."""
    if not profile.known:
        return {}
    info: dict[str, object] = {}
    if profile.context_window is not None:
        info["context_length"] = profile.context_window
    info["supports_image_in"] = profile.image_input
    info["supports_video_in"] = profile.video_input
    info["supports_reasoning"] = profile.thinking != "none"
    return info


def from_profile(model: str, product: Product) -> ListedModel:
    """``model`` as the profile table describes it on ``product``."""
    return ListedModel(model, profile_info(profile_for(model, product=product)))

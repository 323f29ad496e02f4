"""The merged model list: the routes (aliases) first, then what each upstream lists, each with
what is known about the model it reaches (issue 9 item 9).

An upstream's own entry wins (Kimi's ``/models`` fields, docs/kimi.md §11). A route name takes
the entry of the model it is routed to, from the list of any upstream that lists that id, or
else from the profile table (upstreams/kimi/listing.py) on the product that serves it. A route
that cannot be resolved (its upstream has no key) is listed by name only: what it reaches is
unknown. Pure apart from the ``resolve`` it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.upstream import ListedModel, Upstream
from kimi_gateway.upstreams.kimi.listing import from_profile

# name -> (the upstream serving it, the id it knows the model by)
Resolve = Callable[[str], tuple[Upstream, str]]


def merge_listings(
    routes: Sequence[str], listed: Mapping[str, Sequence[ListedModel]], resolve: Resolve
) -> list[ListedModel]:
    """Routes then listed models (``listed``: by upstream name), each name once; a name's
    entry with fields wins over one without."""
    by_id: dict[str, ListedModel] = {}
    for part in listed.values():
        for model in part:
            if model.id not in by_id or (model.info and not by_id[model.id].info):
                by_id[model.id] = model
    merged: dict[str, ListedModel] = {}
    for name in routes:
        merged[name] = _route_entry(name, listed, by_id, resolve)
    for model in by_id.values():
        merged.setdefault(model.id, model)
    return list(merged.values())


def _route_entry(
    name: str,
    listed: Mapping[str, Sequence[ListedModel]],
    by_id: Mapping[str, ListedModel],
    resolve: Resolve,
) -> ListedModel:
    try:
        upstream, model = resolve(name)
    except GatewayError:
        return ListedModel(name)
    own = {entry.id: entry for entry in listed.get(upstream.name, ())}  # its own list first
    found = own.get(model) or by_id.get(model)
    if found is not None and found.info:
        return ListedModel(name, found.info)
    if upstream.product == "kimi_code":
        return ListedModel(name, from_profile(model, "kimi_code").info)
    if upstream.product == "platform":
        return ListedModel(name, from_profile(model, "platform").info)
    return ListedModel(name)  # a host serving Kimi's weights: the product table is not its

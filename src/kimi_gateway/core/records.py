"""``replace(obj, **changes)``: :func:`dataclasses.replace` for the per-request path.

``dataclasses.replace`` walks every field in Python on each call (~500 bytecodes for the
23-field :class:`~kimi_gateway.core.model.Request`); the quirk pipeline calls it about 16 times
per request, a fifth of the gateway's Python work on a small request (bench/PROFILE.md). Here the
field names are looked up once per class and the current values read in C
(:func:`operator.attrgetter`); the class's own ``__init__`` still runs, so defaults, frozen-ness
and ``__post_init__`` behave exactly as with ``replace``. Classes with ``InitVar`` fields go to
``dataclasses.replace`` itself.

Unlike ``replace``, mypy does not check the keyword names here: a wrong one is a ``TypeError``
from the class's ``__init__`` on the first call, which every test path reaches.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


@functools.cache
def _reader(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]] | None:
    """The class's init field names and a C-level reader of their values; None when
    ``dataclasses.replace`` must do it (InitVar fields, fewer than two init fields:
    ``attrgetter`` of one name returns the value, not a tuple). An ``init=False`` field is not
    copied, as with ``replace``: ``__init__`` gives the copy its default."""
    declared = cls.__dataclass_fields__  # type: ignore[attr-defined]
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields if f.init)
    if len(fields) != len(declared) or len(names) < 2:
        return None
    return names, operator.attrgetter(*names)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the dataclass instance ``obj`` with ``changes`` applied."""
    kind: type[Any] = type(obj)
    reader = _reader(kind)  # type: ignore[arg-type]  # mypy: type[Any] is not Hashable
    if reader is None:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    names, read = reader
    values = dict(zip(names, read(obj), strict=True))
    values.update(changes)
    copy: T = kind(**values)
    return copy

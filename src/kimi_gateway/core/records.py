"""Records of the per-request path: :func:`record`, a frozen dataclass whose construction
costs what a plain one does, and ``replace(obj, **changes)``, :func:`dataclasses.replace` for it.

``record``: to the type checker a ``@dataclass(frozen=True, slots=True)`` (PEP 681
``frozen_default``: ``mypy --strict`` refuses any assignment to a field, as for a frozen
dataclass); at run time a slots dataclass with field hashing and a plain ``__init__``. A frozen
dataclass's ``__init__`` stores each field through ``object.__setattr__`` to get past its own
refusing ``__setattr__``: one C call per field, which made constructing the 23-field
:class:`~kimi_gateway.core.model.Request` 6 µs and each stream event (one per upstream chunk)
more than twice what a plain dataclass costs (bench/PROFILE.md: dataclass ``__init__`` was the
largest single self-time frame). Equality, hashing, ``repr``, ``__match_args__`` and slots are
those of the frozen dataclass; only the run-time refusal of assignment is left to the type
checker, which CI runs on every change (``make lint``).

``dataclasses.replace`` walks every field in Python on each call (~500 bytecodes for the
23-field :class:`~kimi_gateway.core.model.Request`); the quirk pipeline calls it on most
requests. Here each class's init fields are found once, the current values read in C
(:func:`operator.attrgetter`) and passed to the class's own ``__init__`` by position, so
defaults and ``__post_init__`` behave exactly as with ``replace``; replacing one field of a
Request takes 1.4 µs (6.3 µs with a frozen ``__init__`` and keyword arguments). Classes with
``InitVar`` or keyword-only fields go to ``dataclasses.replace`` itself.

Unlike ``replace``, mypy does not check the keyword names here: a wrong one is a ``TypeError``
on the first call, which every test path reaches.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Callable
from dataclasses import field
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """``@dataclass(frozen=True, slots=True)`` to the type checker, a fast-constructing slots
    dataclass at run time (see the module docstring)."""
    made: type[T] = dataclasses.dataclass(slots=True, unsafe_hash=True)(cls)
    return made


@functools.cache
def _reader(cls: type) -> tuple[dict[str, int], Callable[[Any], tuple[Any, ...]]] | None:
    """The positions of the class's init fields and a C-level reader of their values; None
    when ``dataclasses.replace`` must do it (InitVar or keyword-only fields, fewer than two init
    fields: ``attrgetter`` of one name returns the value, not a tuple). An ``init=False`` field
    is not copied, as with ``replace``: ``__init__`` gives the copy its default."""
    declared = cls.__dataclass_fields__  # type: ignore[attr-defined]
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields if f.init)
    if len(fields) != len(declared) or len(names) < 2 or any(f.kw_only for f in fields):
        return None
    return {name: i for i, name in enumerate(names)}, operator.attrgetter(*names)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the dataclass instance ``obj`` with ``changes`` applied (its ``__init__``
    called with positional arguments: no keyword matching over every field)."""
    kind: type[Any] = type(obj)
    reader = _reader(kind)  # type: ignore[arg-type]  # mypy: type[Any] is not Hashable
    if reader is None:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    positions, read = reader
    values = list(read(obj))
    for name, value in changes.items():
        position = positions.get(name)
        if position is None:
            raise TypeError(f"{kind.__name__} has no init field {name!r}")
        values[position] = value
    copy: T = kind(*values)
    return copy

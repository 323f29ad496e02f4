"""core/records: ``replace`` makes the same copy as dataclasses.replace, for every class it
takes; a ``record`` compares, hashes and prints as the frozen dataclass it stands for."""

from __future__ import annotations

import dataclasses

import pytest

from kimi_gateway.core.events import TextDelta
from kimi_gateway.core.model import Message, Request, TextPart, ToolCallPart
from kimi_gateway.core.records import record, replace


def test_copy_equals_dataclasses_replace() -> None:
    request = Request(model="m", messages=(Message("user", (TextPart("hi"),)),), stop=("x",))
    ours = replace(request, model="k2", max_tokens=5)
    assert ours == dataclasses.replace(request, model="k2", max_tokens=5)
    assert ours is not request
    assert request.model == "m"


def test_unchanged_fields_are_the_same_objects() -> None:
    part = ToolCallPart(id="c1", name="f", arguments='{"a": 1}')
    copy = replace(part, name="g")
    assert (copy.id, copy.name, copy.arguments) == ("c1", "g", '{"a": 1}')


def test_wrong_field_name_raises() -> None:
    with pytest.raises(TypeError):
        replace(TextPart("x"), txt="y")


@dataclasses.dataclass(frozen=True)
class _Derived:
    a: int
    b: int = dataclasses.field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "b", self.a * 2)


def test_init_false_fields_go_to_dataclasses_replace() -> None:
    assert replace(_Derived(2), a=3) == _Derived(3)


def test_wrong_field_name_of_a_larger_record_raises() -> None:
    with pytest.raises(TypeError, match="txt"):
        replace(ToolCallPart(id="c1", name="f", arguments="{}"), txt="y")


@dataclasses.dataclass(frozen=True)
class _KeywordOnly:
    a: int
    b: int = dataclasses.field(kw_only=True, default=0)


def test_keyword_only_fields_go_to_dataclasses_replace() -> None:
    assert replace(_KeywordOnly(1, b=2), a=3) == _KeywordOnly(3, b=2)


@dataclasses.dataclass(frozen=True, slots=True)
class _FrozenDelta:
    index: int
    text: str


def test_a_record_behaves_as_its_frozen_dataclass() -> None:
    ours, frozen = TextDelta(1, "hi"), _FrozenDelta(1, "hi")
    assert ours == TextDelta(1, "hi")
    assert ours != TextDelta(2, "hi")
    assert hash(ours) == hash(TextDelta(1, "hi"))
    assert hash(frozen) == hash(_FrozenDelta(1, "hi"))
    assert repr(ours) == repr(frozen).replace("_FrozenDelta", "TextDelta")
    assert TextDelta.__match_args__ == ("index", "text")
    assert TextDelta.__slots__ == ("index", "text")  # type: ignore[attr-defined]
    assert {ours: 1}[TextDelta(1, "hi")] == 1


def test_a_record_stores_its_fields_without_the_frozen_detour() -> None:
    """What makes a record cheap to build: no refusing ``__setattr__`` for ``__init__`` to go
    around (that refusal is the type checker's: ``@record`` is frozen to mypy)."""

    @record
    class Pair:
        a: int
        b: int

    assert Pair.__setattr__ is object.__setattr__
    assert _FrozenDelta.__setattr__ is not object.__setattr__
    assert replace(Pair(1, 2), b=3) == Pair(1, 3)

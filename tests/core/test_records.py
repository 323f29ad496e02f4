"""core/records.replace: the same copy as dataclasses.replace, for every class it takes."""

from __future__ import annotations

import dataclasses

import pytest

from kimi_gateway.core.model import Message, Request, TextPart, ToolCallPart
from kimi_gateway.core.records import replace


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

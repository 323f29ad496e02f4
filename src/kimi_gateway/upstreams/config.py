"""What every upstream kind's builder receives, and how it reports a bad config entry.

A builder turns one ``upstreams:`` entry (settings.UpstreamConfig) into one or more Upstreams
(Kimi's products have two faces each). Its ``options`` are checked by the kind's own pydantic
model (:func:`parse_options`), so a mistake names the entry and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from kimi_gateway.settings import UpstreamConfig
from kimi_gateway.upstreams.http import UpstreamHttp
from kimi_gateway.upstreams.kimi.policy import QuirkPolicy

_Options = TypeVar("_Options", bound=BaseModel)


class UpstreamConfigError(ValueError):
    """An ``upstreams:`` entry the gateway cannot build; the message names entry and field."""


class Options(BaseModel):
    """Base of each kind's options: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class BuildContext:
    http: UpstreamHttp
    policy: QuirkPolicy


def where(entry: UpstreamConfig) -> str:
    return f"upstreams entry {entry.name!r} (kind {entry.kind})"


def parse_options(entry: UpstreamConfig, model: type[_Options]) -> _Options:
    try:
        return model.model_validate(entry.options)
    except ValidationError as exc:
        problems = "; ".join(
            f"options.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise UpstreamConfigError(f"{where(entry)}: {problems}") from None


def require(entry: UpstreamConfig, field: str, value: Any) -> Any:
    if value is None or value == "":
        raise UpstreamConfigError(f"{where(entry)}: {field} is required")
    return value


def no_models_map(entry: UpstreamConfig) -> Mapping[str, str]:
    return dict(entry.models)

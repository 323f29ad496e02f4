"""Hypothesis strategies for requests valid in the client's own API (issue 9, "Zero preventable
Kimi 400s"): OpenAI Chat Completions and Anthropic Messages bodies as JSON, built from the
documented ranges of each client API, never from Kimi's rules (finding where those differ is the
point of test_no_preventable_400s.py).

Models: the gateway's own profile names for each face and routes to each face (``ROUTES``), so
both Anthropic paths (Kimi's native route and the translation to the OpenAI face) are reached.
"""

from __future__ import annotations

import base64
import string
from typing import Any

import orjson
from hypothesis import strategies as st

from kimi_gateway.upstreams.kimi.profiles import Product, profile_for

# Kimi names the gateway's profiles know (upstreams/kimi/profiles.py), retired models left out:
# Kimi refuses those whatever the gateway does.
PLATFORM_MODELS = (
    "moonshot-v1-8k",
    "moonshot-v1-32k",
    "moonshot-v1-128k",
    "moonshot-v1-auto",
    "moonshot-v1-8k-vision-preview",
    "moonshot-v1-128k-vision-preview",
    "kimi-k2.5",
    "kimi-k2.6",
    "kimi-k2.7-code",
    "kimi-k3",
)
CODE_MODELS = ("kimi-for-coding", "kimi-for-coding-highspeed", "k3", "kimi-k2.7", "kimi-k2.5")
CLAUDE_NAMES = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-3-5-haiku-latest")
_FACES = {
    "via-platform": ("platform", PLATFORM_MODELS),
    "via-platform-anthropic": ("platform_anthropic", ("kimi-k2.6", "kimi-k3", "moonshot-v1-8k")),
    "via-code-openai": ("code_openai", CODE_MODELS),
    "via-code-anthropic": ("code_anthropic", CODE_MODELS),
}
ROUTES = {
    f"{prefix}/{model}": {"upstream": upstream, "model": model}
    for prefix, (upstream, models) in _FACES.items()
    for model in models
}
MODELS = (*PLATFORM_MODELS, *CODE_MODELS, *ROUTES)
ANTHROPIC_MODELS = (*MODELS, *CLAUDE_NAMES)


def takes_images(model: str) -> bool:
    """Whether the gateway's profile of the model the name reaches takes images (no image is
    generated otherwise: a clear refusal is then the right answer, not a preventable 400)."""
    route = ROUTES.get(model)
    product: Product = "platform"
    if route is not None:
        model = route["model"]
        product = "kimi_code" if route["upstream"].startswith("code") else "platform"
    elif model in CODE_MODELS:
        product = "kimi_code"
    elif any(family in model for family in ("opus", "sonnet", "haiku")):
        return True  # kimi-k3, kimi-k2.6, kimi-k2.5 by default: all take images
    return profile_for(model, product=product).image_input


# A real 1×1 PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a2"
        "9ae90000000049454e44ae426082"
    )
).decode()
DATA_URL = "data:image/png;base64," + PNG

words = st.text(string.ascii_letters + " .,!?é中", min_size=1, max_size=24).filter(str.strip)
texts = st.one_of(words, st.just("What is the weather in Paris? Answer in JSON."))
names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_-]{0,20}", fullmatch=True)
ids_openai = st.from_regex(r"call_[A-Za-z0-9]{8,24}", fullmatch=True)
ids_anthropic = st.from_regex(r"toolu_[A-Za-z0-9]{8,24}", fullmatch=True)
ids_kimi = st.builds(lambda n, i: f"functions.{n}:{i}", names, st.integers(0, 9))
call_ids = st.one_of(ids_openai, ids_anthropic, ids_kimi)
# Claude's thinking signatures: long opaque base64 Kimi did not make.
claude_signatures = st.binary(min_size=32, max_size=96).map(
    lambda raw: base64.b64encode(raw).decode()
)

# --- JSON schemas from a small grammar ---------------------------------------------------

_FORMATS = ("date-time", "date", "email", "uri", "uuid")
_leaf_schemas = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "format": st.sampled_from(_FORMATS),
            "description": words,
            "minLength": st.integers(0, 3),
            "pattern": st.just("^[a-z]+$"),
        },
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number"])},
        optional={"minimum": st.integers(-5, 0), "maximum": st.integers(1, 100)},
    ),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.builds(
        lambda vs: {"type": "string", "enum": vs},
        st.lists(words, min_size=1, max_size=3, unique=True),
    ),
    st.just({"enum": [1, "two", None]}),
)


def _object(props: dict[str, Any], required: list[str], extra: bool | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    if extra is not None:
        schema["additionalProperties"] = extra
    return schema


_prop_names = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)


def _composites(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    objects = st.dictionaries(_prop_names, inner, max_size=3).flatmap(
        lambda props: st.builds(
            _object,
            st.just(props),
            st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
            st.none() | st.booleans(),
        )
    )
    arrays = st.builds(lambda items: {"type": "array", "items": items}, inner)
    any_of = st.lists(inner, min_size=2, max_size=3).map(lambda alts: {"anyOf": alts})
    nullable = inner.map(lambda s: {"anyOf": [s, {"type": "null"}]})
    return st.one_of(objects, arrays, any_of, nullable)


_schemas = st.recursive(_leaf_schemas, _composites, max_leaves=6)


def _with_defs(props: dict[str, Any], required: list[str], extra: bool | None, defs: Any) -> Any:
    schema = _object(props, required, extra)
    if defs is not None:
        schema["$defs"] = {"Thing": defs}
        schema["properties"] = {**props, "thing": {"$ref": "#/$defs/Thing"}}
    return schema


# A tool's parameters: always an object at the top (both client APIs require it).
parameter_schemas = st.dictionaries(_prop_names, _schemas, max_size=3).flatmap(
    lambda props: st.builds(
        _with_defs,
        st.just(props),
        st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
        st.none() | st.booleans(),
        st.none() | _schemas,
    )
)


def _strict(schema: Any) -> Any:
    """OpenAI's strict structured-output subset: every object closed, every property required,
    no formats/patterns/lengths it does not take."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items() if k not in {"format", "pattern", "minLength"}}
    if out.get("type") == "object":
        out["required"] = sorted(out.get("properties", {}))
        out["additionalProperties"] = False
    return out


strict_schemas = parameter_schemas.map(_strict)


# --- tool calls in histories -----------------------------------------------------------------


def arguments() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(_prop_names, st.integers(-3, 3) | words | st.booleans(), max_size=3)


tool_results = st.one_of(words, st.just(""), st.just('{"temperature": 21}'))


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()

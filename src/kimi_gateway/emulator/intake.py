"""What every generation face does before its dialect's own validation, in one place.

Both dialects (OpenAI Chat Completions and Anthropic Messages) on both products run the same
first steps: authenticate with the product's keys (docs/kimi.md §1), cap Kimi Code's request size
(§13.1), decode the JSON body, and look the model name up in the product's catalog (§2.2, §13.1).
After their own parsing, both check images against the model's `supports_image_in` (§4.1, §11).
Keeping these here is what makes the faces of one product answer alike.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from kimi_gateway.emulator import auth, catalog, errors
from kimi_gateway.emulator.catalog import ModelProfile
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.errors import invalid_request
from kimi_gateway.emulator.script import NeutralMessage

KIMI_CODE_MAX_BYTES = 2_097_152  # §13.1 [O] KCDOCS


def decode_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_request("Invalid request: the body is not valid JSON") from None  # invented


async def read_request(request: Request, config: EmulatorConfig, *, kimi_code: bool) -> Any:
    """Authenticate for the product, cap Kimi Code's size, and return the decoded body."""
    if kimi_code:
        auth.authenticate_kimi_code(request, config)
    else:
        auth.authenticate_platform(request, config)
    raw = await request.body()
    if kimi_code and len(raw) > KIMI_CODE_MAX_BYTES:
        # §2.3/§13.4 [O] KCDOCS; N is the request body's size in bytes.
        raise invalid_request(f"total message size {len(raw)} exceeds limit {KIMI_CODE_MAX_BYTES}")
    return decode_json(raw)


def resolve_model(
    name: str, config: EmulatorConfig, *, kimi_code: bool
) -> tuple[ModelProfile, str]:
    """The profile serving `name` and the model name the reply reports."""
    if not kimi_code:
        profile = catalog.find_platform_model(name, config.retired_models_404)
        if profile is None:
            raise errors.model_not_found()  # §2.2 [O] DOCS-OLD, CB
        return profile, profile.id
    accept_unknown = config.kimi_code_unknown_model == "accept"
    found = catalog.find_kimi_code_model(name, accept_unknown)
    if found is None:
        # §13.4 [O] KCDOCS names the model in the message.
        raise errors.model_not_found(f"Not found the model {name} or Permission denied")
    if catalog.find_kimi_code_model(name, False) is None:
        # §13.1 [3M] HALRO: an unknown name is answered with 200 and echoed back.
        return found, name
    # §13.1 [3C]: replies report `kimi-for-coding` whatever known name was sent.
    return found, catalog.KIMI_CODE_REPORTED_MODEL


def check_image_input(
    profile: ModelProfile, messages: tuple[NeutralMessage, ...], config: EmulatorConfig
) -> None:
    """Refuse images for a model without image input (EmulatorConfig switch, default on)."""
    if profile.image_in or not config.reject_images_without_vision:
        return
    if any(message.images for message in messages):
        # Invented text in the form of §2.2's `Invalid request: {error_details}`: no source
        # quotes Kimi's answer to an image sent to a text-only model.
        raise invalid_request(
            f"Invalid request: the model {profile.id} does not support image input"
        )

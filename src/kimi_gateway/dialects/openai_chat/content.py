"""Message ``content`` ↔ canonical parts: text, images (data URI, http URL, ``ms://``), opaque.

OpenAI content is a string or an array of parts. ``text`` and ``image_url`` map to TextPart and
ImagePart; every other part type (``video_url``, ``input_audio``, ``file``, ``refusal`` …) is kept
verbatim as an OpaquePart so the same dialect can pass it on (docs/kimi.md §5.1 lists
``video_url``). Images: ``data:<type>;base64,<payload>`` → base64, ``ms://<id>`` → file (Kimi
uploads, §5.2, §9), anything else → url. What a role may contain is messages.py's business.
"""

from __future__ import annotations

from typing import Any

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import ImagePart, OpaquePart, Part, TextPart
from kimi_gateway.dialects.openai_chat.wire import as_object, as_str, opt_str, wrong_type

ContentPart = TextPart | ImagePart | OpaquePart

_MS_SCHEME = "ms://"
_DEFAULT_MEDIA_TYPE = "image/png"  # only when a base64 ImagePart came without one


def parse_content(value: Any, param: str) -> tuple[ContentPart, ...]:
    """A ``content`` value (string, array of parts, or null) as parts; ``""`` is one empty text."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (TextPart(value),)
    if not isinstance(value, list | tuple):
        raise wrong_type(param, "a string or an array of content parts", value)
    return tuple(parse_part(item, f"{param}[{i}]") for i, item in enumerate(value))


def parse_part(value: Any, param: str) -> ContentPart:
    part = as_object(value, param)
    kind = as_str(part.get("type"), f"{param}.type")
    cache = part.get("cache_control") is not None
    if kind == "text":
        return TextPart(as_str(part.get("text"), f"{param}.text"), cache=cache)
    if kind == "image_url":
        return parse_image(part.get("image_url"), f"{param}.image_url", cache=cache)
    return OpaquePart(kind, dict(part))


def parse_image(value: Any, param: str, *, cache: bool = False) -> ImagePart:
    """``image_url`` is ``{"url", "detail"?}``; some clients send the URL string alone."""
    if isinstance(value, str):
        url, detail = value, None
    else:
        image = as_object(value, param)
        url = as_str(image.get("url"), f"{param}.url")
        detail = opt_str(image.get("detail"), f"{param}.detail")
    if url.startswith(_MS_SCHEME):
        return ImagePart("file", url[len(_MS_SCHEME) :], detail=detail, cache=cache)
    if url.startswith("data:"):
        header, sep, payload = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if sep and encoding == "base64":
            return ImagePart("base64", payload, media_type or None, detail, cache)
    return ImagePart("url", url, detail=detail, cache=cache)


def image_url(part: ImagePart) -> str:
    if part.source == "file":
        return _MS_SCHEME + part.data
    if part.source == "base64":
        return f"data:{part.media_type or _DEFAULT_MEDIA_TYPE};base64,{part.data}"
    return part.data


def render_part(part: Part, param: str) -> dict[str, Any]:
    """One content part as wire JSON. Cache flags have no OpenAI form and are not rendered."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"url": image_url(part)}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, OpaquePart):
        return {**part.data, "type": part.type}
    raise TranslationError(
        f"A {type(part).__name__} cannot be rendered as OpenAI message content.", param=param
    )


def render_content(parts: tuple[Part, ...], param: str) -> str | list[dict[str, Any]]:
    """A single text part renders as a plain string (the common form); anything else as an
    array. No parts render as ``""``."""
    if not parts:
        return ""
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    return [render_part(part, f"{param}[{i}]") for i, part in enumerate(parts)]

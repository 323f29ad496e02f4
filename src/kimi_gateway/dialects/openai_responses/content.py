"""Message content parts ↔ canonical parts: ``input_text`` / ``output_text`` / ``input_image``.

``input_image`` carries ``image_url`` (a ``data:`` URI → base64, anything else → url) or a
``file_id`` (→ ImagePart source "file", which the chat dialect renders as Kimi's ``ms://``,
docs/kimi.md §9). ``refusal``, ``input_file``, ``input_audio`` and unknown parts are kept verbatim
as OpaqueParts, with a Diagnostic for the ones no other dialect can carry. Output-text
``annotations`` and ``logprobs`` have no canonical form (a Diagnostic when non-empty).
"""

from __future__ import annotations

from typing import Any, Literal

from kimi_gateway.core.errors import TranslationError
from kimi_gateway.core.model import Diagnostic, ImagePart, OpaquePart, Part, TextPart
from kimi_gateway.dialects.openai_responses.wire import as_object, as_str, opt_str, wrong_type

ContentPart = TextPart | ImagePart | OpaquePart
TextKind = Literal["input_text", "output_text"]

_DEFAULT_MEDIA_TYPE = "image/png"  # only when a base64 ImagePart came without one
_TEXT_KINDS = ("input_text", "output_text", "text", "summary_text")


def parse_content(value: Any, param: str, diags: list[Diagnostic]) -> tuple[ContentPart, ...]:
    """A ``content`` value: a string or an array of parts."""
    if isinstance(value, str):
        return (TextPart(value),)
    if not isinstance(value, list | tuple):
        raise wrong_type(param, "a string or an array of content parts", value)
    return tuple(parse_part(item, f"{param}[{i}]", diags) for i, item in enumerate(value))


def parse_part(value: Any, param: str, diags: list[Diagnostic]) -> ContentPart:
    part = as_object(value, param)
    kind = as_str(part.get("type"), f"{param}.type")
    if kind in _TEXT_KINDS:
        if part.get("annotations") or part.get("logprobs"):
            diags.append(Diagnostic("dropped_annotations", f"{param}: annotations dropped"))
        return TextPart(as_str(part.get("text"), f"{param}.text"))
    if kind == "input_image":
        return parse_image(part, param)
    if kind != "refusal":
        diags.append(
            Diagnostic("opaque_part", f"{param}: {kind!r} parts are passed on only to Responses")
        )
    return OpaquePart(kind, dict(part))


def parse_image(part: Any, param: str) -> ImagePart:
    detail = opt_str(part.get("detail"), f"{param}.detail")
    file_id = opt_str(part.get("file_id"), f"{param}.file_id")
    url = opt_str(part.get("image_url"), f"{param}.image_url")
    if url is None:
        if file_id is None:
            raise TranslationError(
                f"'{param}' needs an 'image_url' or a 'file_id'.", param=f"{param}.image_url"
            )
        return ImagePart("file", file_id, detail=detail)
    if url.startswith("data:"):
        header, sep, payload = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if sep and encoding == "base64":
            return ImagePart("base64", payload, media_type or None, detail)
    return ImagePart("url", url, detail=detail)


def render_part(part: Part, text_kind: TextKind, param: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        if text_kind == "output_text":
            return {"type": "output_text", "text": part.text, "annotations": []}
        return {"type": "input_text", "text": part.text}
    if isinstance(part, ImagePart):
        return render_image(part)
    if isinstance(part, OpaquePart):
        return {**part.data, "type": part.type}
    raise TranslationError(
        f"A {type(part).__name__} cannot be rendered as Responses message content.", param=param
    )


def render_image(part: ImagePart) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "input_image"}
    if part.source == "file":
        out["file_id"] = part.data
    elif part.source == "base64":
        out["image_url"] = f"data:{part.media_type or _DEFAULT_MEDIA_TYPE};base64,{part.data}"
    else:
        out["image_url"] = part.data
    # "auto" is the API's default; the SDK types make detail required, so always say it.
    out["detail"] = part.detail or "auto"
    return out


def render_content(
    parts: tuple[Part, ...], text_kind: TextKind, param: str
) -> list[dict[str, Any]]:
    return [render_part(part, text_kind, f"{param}[{i}]") for i, part in enumerate(parts)]

"""The default of ``quirks.file_purposes`` (upstreams/kimi/file_purpose.py): each OpenAI upload
purpose Kimi does not have, and the one of Kimi's it is sent as (docs/kimi.md §9 [O] OAS:
``file-extract``, ``image``, ``video``, ``batch``), or ``auto``: by the file's type."""

from __future__ import annotations

from typing import Literal

FilePurpose = Literal["file-extract", "image", "video", "batch", "auto"]
FILE_PURPOSES: dict[str, FilePurpose] = {
    "assistants": "file-extract",
    "user_data": "auto",
    "vision": "image",
}

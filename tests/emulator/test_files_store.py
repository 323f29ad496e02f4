"""Unit tests of the emulator's FileStore: Kimi's FileObject, limits and messages (§9, §2.2)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from functools import partial

import orjson
import pytest

from kimi_gateway.emulator.errors import EmulatorError
from kimi_gateway.emulator.files import FileObject, FileStore
from kimi_gateway.emulator.files_store import FILE_COUNT_MESSAGE_HC, FileContent

NOW = 1710311711  # the created_at of the documented capture (docs/kimi.md §9)
MIB = 1024 * 1024


# A store on a fixed clock and seed; keyword arguments are FileStore's own.
store = partial(FileStore, clock=lambda: NOW + 0.9, seed=7)


def error_of(call: Callable[..., object], *args: object) -> tuple[int, str | None, str]:
    with pytest.raises(EmulatorError) as caught:
        call(*args)
    return caught.value.status, caught.value.type, caught.value.message


def test_upload_returns_the_documented_file_object() -> None:
    files = store()
    info = files.upload("notes.txt", b"hello", "file-extract")
    assert re.fullmatch(r"[0-9a-v]{20}", info.id)
    assert info == FileObject(
        id=info.id,
        bytes=5,
        created_at=NOW,
        filename="notes.txt",
        purpose="file-extract",
        status="ok",
        status_details="",
    )
    assert list(info.to_wire().items()) == [
        ("id", info.id),
        ("object", "file"),
        ("bytes", 5),
        ("created_at", NOW),
        ("filename", "notes.txt"),
        ("purpose", "file-extract"),
        ("status", "ok"),
        ("status_details", ""),
    ]


def test_ids_are_xids_carrying_created_at_and_reproducible_with_a_seed() -> None:
    first, second = store(), store()
    ids = [first.upload(f"{n}.txt", b"x", "file-extract").id for n in range(3)]
    assert [second.upload(f"{n}.txt", b"x", "file-extract").id for n in range(3)] == ids
    assert len(set(ids)) == 3
    raw = [base64.b32hexdecode(i.upper() + "====") for i in ids]
    assert [int.from_bytes(r[:4], "big") for r in raw] == [NOW] * 3
    counters = [int.from_bytes(r[9:], "big") for r in raw]
    assert counters[1:] == [(counters[0] + 1) % (1 << 24), (counters[0] + 2) % (1 << 24)]
    other_seed = FileStore(clock=lambda: NOW, seed=8).upload("a.txt", b"x", "file-extract")
    assert other_seed.id not in ids


def test_list_get_delete_and_clear() -> None:
    files = store()
    a = files.upload("a.txt", b"a", "file-extract")
    b = files.upload("b.png", b"\x89PNG", "image")
    assert files.list() == [a, b]
    assert files.get(b.id) == b
    assert files.total_bytes() == 5
    assert files.delete(a.id) == a
    assert files.list() == [b]
    assert error_of(files.get, a.id) == (
        404,
        "resource_not_found_error",
        f"Not found the file {a.id} or Permission denied",
    )
    files.clear()
    assert files.list() == []


@pytest.mark.parametrize("method", ["get", "delete", "content", "data", "extracted_text"])
def test_unknown_id_is_404(method: str) -> None:
    assert error_of(getattr(store(), method), "cnoki7pkqq4r540f4q6g") == (
        404,
        "resource_not_found_error",
        "Not found the file cnoki7pkqq4r540f4q6g or Permission denied",
    )


def test_content_of_file_extract_is_a_json_string() -> None:
    files = store()
    info = files.upload("doc.md", "# Título\n".encode(), "file-extract")
    content = files.content(info.id)
    assert content.media_type == "text/plain"
    assert (
        content.body
        == (
            '{"content":"# Título\\n","file_type":"text/markdown",'
            '"filename":"doc.md","title":"","type":"file"}'
        ).encode()
    )
    assert orjson.loads(content.body) == {
        "content": "# Título\n",
        "file_type": "text/markdown",
        "filename": "doc.md",
        "title": "",
        "type": "file",
    }


@pytest.mark.parametrize(
    ("filename", "purpose", "media_type"),
    [
        ("cat.png", "image", "image/png"),
        ("clip.mp4", "video", "video/mp4"),
        ("requests.jsonl", "batch", "application/jsonl"),
        ("upload", "image", "application/octet-stream"),
    ],
)
def test_content_of_other_purposes_is_the_raw_bytes(
    filename: str, purpose: str, media_type: str
) -> None:
    files = store()
    info = files.upload(filename, b"\x00\x01raw", purpose)
    assert info.status == "ok"
    assert files.content(info.id) == FileContent(b"\x00\x01raw", media_type)
    assert files.data(info.id) == b"\x00\x01raw"
    assert files.extracted_text(info.id) is None


def test_extraction_failure_marks_the_file_and_content_is_500() -> None:
    files = store()
    info = files.upload("photo.png", b"\x89PNG\r\n\x1a\n\x00", "file-extract")
    assert (info.status, info.status_details) == ("error", "unsupported file type: .png")
    assert files.get(info.id) == info
    assert error_of(files.content, info.id) == (
        500,
        "server_error",
        "Failed to extract file: unsupported file type: .png",
    )


def test_ok_status_is_configurable_for_the_oas_ready_variant() -> None:
    info = store(ok_status="ready").upload("a.txt", b"a", "file-extract")
    assert info.status == "ready"


@pytest.mark.parametrize("purpose", ["file-extract", "image", "video", "batch"])
def test_the_four_2026_purposes_are_accepted(purpose: str) -> None:
    assert store().upload("a.txt", b"a", purpose).purpose == purpose


def test_unknown_purpose_is_refused() -> None:
    assert error_of(store().upload, "a.txt", b"a", "assistants") == (
        400,
        "invalid_request_error",
        "Invalid purpose: assistants, expected one of file-extract, image, video, batch",
    )


@pytest.mark.parametrize("purpose", ["image", "video", "batch", "assistants"])
def test_legacy_mode_accepts_only_file_extract(purpose: str) -> None:
    files = store(only_file_extract=True)
    assert error_of(files.upload, "a.png", b"a", purpose) == (
        400,
        "invalid_request_error",
        "Invalid purpose: only 'file-extract' accepted",
    )
    assert files.upload("a.txt", b"a", "file-extract").status == "ok"


def test_zero_size_is_refused() -> None:
    assert error_of(store().upload, "a.txt", b"", "file-extract") == (
        400,
        "invalid_request_error",
        "File size is zero, please confirm and re-upload the file",
    )


def test_file_size_limit_is_inclusive() -> None:
    files = store(max_file_bytes=10)
    assert files.upload("a.txt", b"x" * 10, "file-extract").bytes == 10
    assert error_of(files.upload, "a.txt", b"x" * 11, "file-extract") == (
        400,
        "invalid_request_error",
        "File size is too large, max file size is 10B, please confirm and re-upload the file",
    )


def test_default_file_size_limit_is_100_mb() -> None:
    files = FileStore()
    assert files.upload("big.jsonl", b"x" * (100 * MIB), "batch").bytes == 100 * MIB
    assert error_of(files.upload, "big.jsonl", b"x" * (100 * MIB + 1), "batch") == (
        400,
        "invalid_request_error",
        "File size is too large, max file size is 100MB, please confirm and re-upload the file",
    )


def test_file_count_limit_and_delete_frees_a_slot() -> None:
    files = store(max_files=3)
    ids = [files.upload(f"{n}.txt", b"x", "file-extract").id for n in range(3)]
    assert error_of(files.upload, "4.txt", b"x", "file-extract") == (
        400,
        "invalid_request_error",
        "The number of files you have uploaded exceeded the max file count 3, "
        "please delete previous uploaded files",
    )
    files.delete(ids[0])
    assert files.upload("4.txt", b"x", "file-extract").filename == "4.txt"


def test_file_count_message_has_the_help_center_variant() -> None:
    files = store(max_files=1, file_count_message=FILE_COUNT_MESSAGE_HC)
    files.upload("1.txt", b"x", "file-extract")
    assert error_of(files.upload, "2.txt", b"x", "file-extract") == (
        400,
        "invalid_request_error",
        "Too many uploaded files",
    )


def test_default_file_count_limit_is_1000() -> None:
    files = FileStore()
    for n in range(1000):
        files.upload(f"{n}.txt", b"x", "file-extract")
    assert len({info.id for info in files.list()}) == 1000
    assert error_of(files.upload, "1001.txt", b"x", "file-extract") == (
        400,
        "invalid_request_error",
        "The number of files you have uploaded exceeded the max file count 1000, "
        "please delete previous uploaded files",
    )


def test_total_size_limit() -> None:
    files = store(max_total_bytes=10)
    files.upload("a.txt", b"x" * 6, "file-extract")
    assert error_of(files.upload, "b.txt", b"x" * 5, "file-extract") == (
        400,
        "invalid_request_error",
        "The total size of files you have uploaded exceeded the max total size 10B, "
        "please delete previous uploaded files",
    )
    assert files.upload("b.txt", b"x" * 4, "file-extract").bytes == 4


def test_default_limits() -> None:
    files = FileStore()
    limits = (files.max_files, files.max_file_bytes, files.max_total_bytes)
    assert limits == (1000, 100 * MIB, 10 * 1024 * MIB)
    assert (files.ok_status, files.only_file_extract) == ("ok", False)

"""End to end: the official openai SDK against the emulator's Files API on a real server
(docs/kimi.md §9), through the `kimi_emulator` fixture."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import cast

import openai
import pytest
from fpdf import FPDF
from openai import AsyncOpenAI, OpenAI
from openai.types import FilePurpose

from kimi_gateway.emulator.config import EmulatorConfig, FileSettings
from kimi_gateway.emulator.server import EmulatorServer

# Kimi's purposes (docs/kimi.md §9); the openai SDK's FilePurpose lists only OpenAI's.
FILE_EXTRACT = cast(FilePurpose, "file-extract")
IMAGE = cast(FilePurpose, "image")


@pytest.fixture
def client(kimi_emulator: EmulatorServer) -> OpenAI:
    return OpenAI(api_key="sk-test", base_url=kimi_emulator.platform_url, max_retries=0)


def pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.cell(text=text)
    return bytes(pdf.output())


def test_upload_list_retrieve_content_delete(client: OpenAI) -> None:
    created = client.files.create(file=("notes.md", b"# Notes\nbuy milk\n"), purpose=FILE_EXTRACT)
    assert re.fullmatch(r"[0-9a-v]{20}", created.id)
    assert created.model_dump(exclude_none=True) == {
        "id": created.id,
        "object": "file",
        "bytes": 17,
        "created_at": created.created_at,
        "filename": "notes.md",
        "purpose": "file-extract",
        "status": "ok",
        "status_details": "",
    }
    assert client.files.list().data == [created]
    assert client.files.retrieve(created.id) == created

    content = client.files.content(created.id)
    assert content.response.headers["content-type"] == "text/plain; charset=utf-8"
    assert json.loads(content.text) == {
        "content": "# Notes\nbuy milk\n",
        "file_type": "text/markdown",
        "filename": "notes.md",
        "title": "",
        "type": "file",
    }

    deleted = client.files.delete(created.id)
    assert deleted.model_dump() == {"id": created.id, "object": "file", "deleted": True}
    assert client.files.list().data == []


def test_pdf_from_a_path_is_extracted(client: OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes("Quarterly revenue grew 12 percent"))
    created = client.files.create(file=path, purpose=FILE_EXTRACT)
    assert (created.filename, created.bytes, created.status) == (
        "report.pdf",
        path.stat().st_size,
        "ok",
    )
    assert json.loads(client.files.content(created.id).text) == {
        "content": "Quarterly revenue grew 12 percent",
        "file_type": "application/pdf",
        "filename": "report.pdf",
        "title": "",
        "type": "file",
    }


def test_bytes_without_a_name_are_called_upload(client: OpenAI) -> None:
    created = client.files.create(file=b"just some text", purpose=FILE_EXTRACT)
    assert created.filename == "upload"
    assert json.loads(client.files.content(created.id).text)["content"] == "just some text"


def test_image_content_is_the_raw_bytes(client: OpenAI) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    created = client.files.create(file=("cat.png", png), purpose=IMAGE)
    content = client.files.content(created.id)
    assert (content.content, content.response.headers["content-type"]) == (png, "image/png")


def test_sdk_list_iteration_terminates(client: OpenAI) -> None:
    ids = [client.files.create(file=(f"{n}.txt", b"x"), purpose=FILE_EXTRACT).id for n in range(3)]
    assert [f.id for f in client.files.list()] == ids


def test_errors_reach_the_sdk_with_kimi_bodies(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as zero:
        client.files.create(file=("empty.txt", b""), purpose=FILE_EXTRACT)
    assert zero.value.body == {
        "type": "invalid_request_error",
        "message": "File size is zero, please confirm and re-upload the file",
    }
    with pytest.raises(openai.NotFoundError) as missing:
        client.files.retrieve("cnoki7pkqq4r540f4q6g")
    assert missing.value.body == {
        "type": "resource_not_found_error",
        "message": "Not found the file cnoki7pkqq4r540f4q6g or Permission denied",
    }
    with pytest.raises(openai.AuthenticationError) as auth:
        OpenAI(api_key="sk-kimi-wrong-product", base_url=client.base_url).files.list()
    assert auth.value.status_code == 401


def test_failed_extraction_is_a_500_on_content(client: OpenAI) -> None:
    created = client.files.create(
        file=("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"), purpose=FILE_EXTRACT
    )
    assert (created.status, created.status_details) == ("error", "unsupported file type: .jpg")
    with pytest.raises(openai.InternalServerError) as failed:
        client.files.content(created.id)
    assert failed.value.body == {
        "type": "server_error",
        "message": "Failed to extract file: unsupported file type: .jpg",
    }


def test_file_count_limit_over_http(kimi_emulator: EmulatorServer, client: OpenAI) -> None:
    kimi_emulator.reconfigure(EmulatorConfig(files=FileSettings(max_files=2)))
    for n in range(2):
        client.files.create(file=(f"{n}.txt", b"x"), purpose=FILE_EXTRACT)
    with pytest.raises(openai.BadRequestError) as full:
        client.files.create(file=("2.txt", b"x"), purpose=FILE_EXTRACT)
    message = (
        "The number of files you have uploaded exceeded the max file count 2, "
        "please delete previous uploaded files"
    )
    assert full.value.body == {"type": "invalid_request_error", "message": message}
    assert full.value.message == f"Error code: 400 - {message}"


@pytest.mark.anyio
async def test_async_client_round_trip(kimi_emulator: EmulatorServer) -> None:
    client = AsyncOpenAI(api_key="sk-test", base_url=kimi_emulator.platform_url, max_retries=0)
    async with client:
        created = await client.files.create(file=("a.csv", b"a,b\n1,2\n"), purpose=FILE_EXTRACT)
        text = (await client.files.content(created.id)).text
    assert json.loads(text)["content"] == "a,b\n1,2\n"

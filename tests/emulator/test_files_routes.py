"""In-process tests of the Files API routes (kimi_gateway.emulator.files.file_routes): paths,
multipart parsing, auth and error rendering. The real-server SDK tests are in test_files_e2e.py."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from kimi_gateway.emulator.auth import platform_authenticator
from kimi_gateway.emulator.config import EmulatorConfig
from kimi_gateway.emulator.files import FileStore, file_routes

KEY = {"Authorization": "Bearer sk-test"}
NOW = 1710311711


@pytest.fixture
def files() -> FileStore:
    return FileStore(clock=lambda: NOW, seed=1)


@pytest.fixture
def client(files: FileStore) -> TestClient:
    routes = file_routes(files, platform_authenticator(EmulatorConfig()), prefix="/v1/files")
    return TestClient(Starlette(routes=routes))


def upload(
    client: TestClient, path: str = "/v1/files", **files: tuple[str, bytes, str]
) -> dict[str, object]:
    response = client.post(
        path,
        headers=KEY,
        data={"purpose": "file-extract"},
        files=files or {"file": ("a.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize("path", ["/v1/files", "/v1/files/"])
def test_upload_and_list_on_bare_and_slashed_path(client: TestClient, path: str) -> None:
    body = upload(client, path)
    assert body == {
        "id": body["id"],
        "object": "file",
        "bytes": 5,
        "created_at": NOW,
        "filename": "a.txt",
        "purpose": "file-extract",
        "status": "ok",
        "status_details": "",
    }
    listed = client.get(path, headers=KEY)
    assert listed.headers["content-type"] == "application/json"
    assert listed.json() == {"object": "list", "data": [body]}


def test_retrieve_content_and_delete(client: TestClient) -> None:
    file_id = upload(client)["id"]
    assert client.get(f"/v1/files/{file_id}", headers=KEY).json()["id"] == file_id
    content = client.get(f"/v1/files/{file_id}/content", headers=KEY)
    assert content.headers["content-type"] == "text/plain; charset=utf-8"
    assert content.text == (
        '{"content":"hello","file_type":"text/plain","filename":"a.txt","title":"","type":"file"}'
    )
    deleted = client.delete(f"/v1/files/{file_id}", headers=KEY)
    assert deleted.json() == {"id": file_id, "object": "file", "deleted": True}
    missing = client.get(f"/v1/files/{file_id}/content", headers=KEY)
    assert (missing.status_code, missing.json()) == (
        404,
        {
            "error": {
                "type": "resource_not_found_error",
                "message": f"Not found the file {file_id} or Permission denied",
            }
        },
    )


def test_mounted_relative_routes_serve_the_slashed_path(files: FileStore) -> None:
    routes = file_routes(files, platform_authenticator(EmulatorConfig()))
    mounted = TestClient(Starlette(routes=[Mount("/v1/files", routes=routes)]))
    file_id = upload(mounted, "/v1/files/")["id"]
    assert mounted.get(f"/v1/files/{file_id}", headers=KEY).json()["filename"] == "a.txt"
    assert mounted.get("/v1/files/", headers=KEY).json()["data"][0]["id"] == file_id


def test_after_ends_sdk_pagination(client: TestClient) -> None:
    first, second = upload(client)["id"], upload(client)["id"]
    assert [
        f["id"] for f in client.get(f"/v1/files?after={first}", headers=KEY).json()["data"]
    ] == [second]
    assert client.get(f"/v1/files?after={second}", headers=KEY).json()["data"] == []


def test_empty_filename_is_shown_as_upload(client: TestClient) -> None:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfile-extract\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\nplain text\r\n--XyZ--\r\n"
    )
    headers = {**KEY, "Content-Type": "multipart/form-data; boundary=XyZ"}
    response = client.post("/v1/files", headers=headers, content=body)
    assert response.json()["filename"] == "upload"


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, {"type": "incorrect_api_key_error", "message": "Incorrect API key provided"}),
        (
            {"Authorization": "Bearer sk-kimi-code-key"},
            401,
            {"type": "invalid_authentication_error", "message": "Invalid Authentication"},
        ),
    ],
)
def test_every_route_authenticates(
    client: TestClient, headers: dict[str, str], status: int, error: dict[str, str]
) -> None:
    calls = [
        client.get("/v1/files", headers=headers),
        client.post("/v1/files", headers=headers, files={"file": ("a.txt", b"x")}),
        client.get("/v1/files/abc", headers=headers),
        client.delete("/v1/files/abc", headers=headers),
        client.get("/v1/files/abc/content", headers=headers),
    ]
    assert [(r.status_code, r.json()) for r in calls] == [(status, {"error": error})] * 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"json": {"purpose": "file-extract"}},
            "Invalid request: the body must be multipart/form-data with 'file' and 'purpose'",
        ),
        (
            {
                "data": {"purpose": "file-extract"},
                "files": {"file": (None, b"a field, not a file")},
            },
            "Invalid request: the multipart field 'file' is missing",
        ),
        (
            {"files": {"file": ("a.txt", b"x")}},
            "Invalid purpose: , expected one of file-extract, image, video, batch",
        ),
        (
            {"data": {"purpose": "file-extract"}, "files": {"file": ("a.txt", b"")}},
            "File size is zero, please confirm and re-upload the file",
        ),
    ],
)
def test_bad_uploads_get_kimi_400s(
    client: TestClient, kwargs: dict[str, object], message: str
) -> None:
    response = client.post("/v1/files", headers=KEY, **kwargs)  # type: ignore[arg-type]
    assert (response.status_code, response.json()) == (
        400,
        {"error": {"type": "invalid_request_error", "message": message}},
    )


def test_failed_extraction_content_is_500(client: TestClient) -> None:
    body = upload(client, file=("img.png", b"\x89PNG\r\n\x1a\n\x00", "image/png"))
    assert (body["status"], body["status_details"]) == ("error", "unsupported file type: .png")
    response = client.get(f"/v1/files/{body['id']}/content", headers=KEY)
    assert (response.status_code, response.json()) == (
        500,
        {
            "error": {
                "type": "server_error",
                "message": "Failed to extract file: unsupported file type: .png",
            }
        },
    )

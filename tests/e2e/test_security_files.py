"""The files relay (issue 10 items 2 and 3), through a running gateway.

Paths: only ``/v1/files[/{id}[/content]]`` with a strict id is relayed, and the upstream URL is
built from the parsed parts. Requests are written on raw sockets so that ``..`` and percent
escapes reach the gateway exactly as sent (httpx would normalise them); before the fix each of
them was forwarded with the operator's Kimi key. Ownership: each gateway key sees, reads and
deletes only what it uploaded; the master key sees everything.
"""

from __future__ import annotations

import socket
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
import openai
import orjson
import pytest
from openai.types import FilePurpose

MASTER = "kgw-master-files-0123456789"
EXTRACT = cast(FilePurpose, "file-extract")  # Kimi's purpose; the SDK's Literal lacks it
ESCAPES = [
    "/v1/files/../users/me/balance",
    "/v1/files/%2e%2e/users/me/balance",
    "/v1/files/%2E%2E/users/me/balance",
    "/v1/files/..%2fusers%2fme%2fbalance",
    "/v1/files/..%2Fusers%2Fme%2Fbalance",
    "/v1/files/%2e%2e%2fusers%2fme%2fbalance",
    "/v1/files/abc/../../users/me/balance",
    "/v1/files/abc/content/../../../users/me/balance",
    "/v1/files/abc%2fcontent",
    "/v1/files/abc/content/more",
    "/v1/files/.",
    "/v1/files/..",
    "/v1/files//content",
    "/v1/files/abc;x=1",
    "/v1/files/%00",
    "/v1/files/" + "a" * 129,
]


def _raw(gateway: Any, method: str, target: str, key: str | None = None) -> tuple[int, bytes]:
    """One request with ``target`` sent byte for byte; the status and the body."""
    parts = urlsplit(gateway.url)
    assert parts.hostname is not None
    auth = f"authorization: Bearer {key}\r\n" if key else ""
    head = (
        f"{method} {target} HTTP/1.1\r\nhost: {parts.netloc}\r\n{auth}"
        "content-length: 0\r\nconnection: close\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("target", ESCAPES)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_paths_outside_the_files_api_never_reach_kimi(
    gateway: Any, method: str, target: str
) -> None:
    status, body = _raw(gateway, method, target)
    assert status == 404
    error = orjson.loads(body)["error"]
    assert error["type"] == "not_found_error"
    assert error["message"].startswith("no such Files API path")
    assert gateway.emulator.requests() == []  # nothing went out with the Kimi key


def test_a_normal_path_is_still_relayed(gateway: Any) -> None:
    status, body = _raw(gateway, "GET", "/v1/files?purpose=file-extract&evil=..%2f..%2fx")
    assert status == 200
    assert orjson.loads(body) == {"object": "list", "data": []}
    [seen] = gateway.emulator.requests()
    assert (seen["method"], seen["path"], seen["query"]) == (
        "GET",
        "/v1/files",
        "purpose=file-extract",
    )


@pytest.mark.parametrize(
    ("method", "target", "allow"),
    [
        ("DELETE", "/v1/files", "GET, POST"),
        ("POST", "/v1/files/abc", "DELETE, GET"),
        ("DELETE", "/v1/files/abc/content", "GET"),
    ],
)
def test_methods_per_files_path(gateway: Any, method: str, target: str, allow: str) -> None:
    reply = httpx.request(method, gateway.url + target)
    assert reply.status_code == 405
    assert reply.headers["allow"] == allow
    assert gateway.emulator.requests() == []


def _client(gateway: Any, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_url, api_key=key, max_retries=0)


def test_each_key_sees_only_its_own_files(gateway_factory: Any) -> None:
    gateway = gateway_factory(master_key=MASTER)
    admin = {"authorization": f"Bearer {MASTER}"}
    key_a, key_b = (
        httpx.post(gateway.url + "/admin/keys", json={"name": n}, headers=admin).json()["key"]
        for n in ("a", "b")
    )
    a, b, master = _client(gateway, key_a), _client(gateway, key_b), _client(gateway, MASTER)
    mine = a.files.create(file=("a.txt", b"A's secret", "text/plain"), purpose=EXTRACT)
    theirs = b.files.create(file=("b.txt", b"B's note", "text/plain"), purpose=EXTRACT)
    direct = httpx.post(  # uploaded straight to Kimi, not through the gateway: no owner
        gateway.emulator.url + "/v1/files",
        headers={"authorization": f"Bearer {gateway.settings.api_key.get_secret_value()}"},
        files={"file": ("d.txt", b"direct")},
        data={"purpose": "file-extract"},
    ).json()

    assert [f.id for f in a.files.list()] == [mine.id]
    assert [f.id for f in b.files.list()] == [theirs.id]
    assert {f.id for f in master.files.list()} == {mine.id, theirs.id, direct["id"]}

    for attempt in (
        lambda: b.files.retrieve(mine.id),
        lambda: b.files.content(mine.id),
        lambda: b.files.delete(mine.id),
        lambda: a.files.retrieve(direct["id"]),
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            attempt()
        assert caught.value.status_code == 404
    deletes = [r for r in gateway.emulator.requests() if r["method"] == "DELETE"]
    assert deletes == []  # B's delete never reached Kimi
    assert a.files.retrieve(mine.id).id == mine.id
    assert orjson.loads(a.files.content(mine.id).text)["content"] == "A's secret"

    assert a.files.delete(mine.id).deleted is True
    assert master.files.delete(direct["id"]).deleted is True
    assert [f.id for f in master.files.list()] == [theirs.id]

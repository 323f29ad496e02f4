"""Files API paths parse strictly, and URLs are rebuilt from the parts (issue 10 item 2)."""

from __future__ import annotations

import pytest

from kimi_gateway.core.errors import GatewayError
from kimi_gateway.core.file_paths import FilePath, clean_query, parse_file_path


@pytest.mark.parametrize(
    ("suffix", "parsed", "rebuilt"),
    [
        ("", FilePath(), ""),
        ("/cnoki7pkqq4r540f4q6g", FilePath("cnoki7pkqq4r540f4q6g"), "/cnoki7pkqq4r540f4q6g"),
        ("/file-abc_1/content", FilePath("file-abc_1", content=True), "/file-abc_1/content"),
    ],
)
def test_the_three_paths(suffix: str, parsed: FilePath, rebuilt: str) -> None:
    assert parse_file_path(suffix) == parsed
    assert parsed.suffix() == rebuilt


@pytest.mark.parametrize(
    "suffix",
    [
        "/",
        "/../users/me/balance",
        "/%2e%2e/users",
        "/..%2fusers",
        "/a/../b",
        "/a/content/x",
        "/a/contents",
        "/.",
        "/a.b",
        "/a%20b",
        "//content",
        "/-a",
        "/" + "a" * 129,
        "users",
        "/a\r\nx: y",
    ],
)
def test_anything_else_is_a_404(suffix: str) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_file_path(suffix)
    assert caught.value.kind == "not_found"
    assert caught.value.message.startswith("no such Files API path: the gateway serves")


def test_query_is_rebuilt_from_known_names() -> None:
    assert clean_query("") == ""
    assert clean_query("purpose=file-extract&x=../y&after=abc&limit=10") == (
        "purpose=file-extract&after=abc&limit=10"
    )
    with pytest.raises(GatewayError) as caught:
        clean_query("after=..%2f..%2fusers")
    assert (caught.value.kind, caught.value.param) == ("invalid_request", "after")

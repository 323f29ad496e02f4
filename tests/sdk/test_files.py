"""files.ask against the emulator's Files API (real text extraction): documents placed as Kimi
requires, uploads remembered across processes, Kimi's limits before any upload, prune, and
images as ms:// references."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from kimi_gateway.emulator.server import EmulatorServer
from kimi_gateway.sdk import FileLimitError, Kimi, KimiError
from kimi_gateway.sdk.file_limits import MAX_FILE_BYTES, MAX_FILES, check_account

from .conftest import PLATFORM_KEY, chat_bodies

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f6a0000000049454e44ae426082"
)


def uploads(emulator: EmulatorServer) -> list[str]:
    return [
        str(r["path"])
        for r in emulator.requests()
        if r["method"] == "POST" and str(r["path"]).startswith("/v1/files")
    ]


def test_ask_places_each_document_as_a_system_message(
    kimi: Kimi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nThe launch is on Friday.\n")
    data = tmp_path / "data.csv"
    data.write_text("city,people\nOslo,700000\n")
    result = kimi.files.ask(
        [notes, data], "When is the launch? @@text:Friday.@@", model="kimi-k2.6"
    )
    assert result.text == "Friday."
    messages = chat_bodies(kimi_emulator)[0]["messages"]
    assert isinstance(messages, list)
    assert [m["role"] for m in messages] == ["system", "system", "user"]
    first = orjson.loads(messages[0]["content"])  # Kimi's /content string, whole (§9)
    second = orjson.loads(messages[1]["content"])
    assert (first["content"], first["filename"]) == (
        "# Notes\nThe launch is on Friday.\n",
        "notes.md",
    )
    assert (second["content"], second["filename"]) == ("city,people\nOslo,700000\n", "data.csv")
    assert messages[2] == {"role": "user", "content": "When is the launch? @@text:Friday.@@"}
    assert kimi.files.uploads == 2
    kimi.files.ask(notes, "Again? @@text:Yes.@@", system="Be brief.")
    assert kimi.files.uploads == 2  # remembered: neither uploaded nor extracted again
    contents = [r for r in kimi_emulator.requests() if str(r["path"]).endswith("/content")]
    assert len(contents) == 2
    again = chat_bodies(kimi_emulator)[1]["messages"]
    assert isinstance(again, list)
    assert again[0] == {"role": "system", "content": "Be brief."}


def _run_ask(emulator: EmulatorServer, data_dir: Path, path: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KIMI_", "MOONSHOT_"))},
        "KIMI_API_KEY": PLATFORM_KEY,
        "KIMI_BASE_URL": emulator.platform_url,
        "KIMI_GATEWAY_DATA_DIR": str(data_dir),
    }
    script = Path(__file__).with_name("ask_file.py")
    return subprocess.Popen(
        [sys.executable, str(script), str(path)], env=env, stdout=subprocess.PIPE
    )


def test_the_same_file_in_two_processes_is_uploaded_once(
    kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    report.write_text("Quarterly revenue grew by 12 percent.")
    data_dir = tmp_path / "shared-data"
    outputs = []
    for _ in range(2):  # one after the other: the second finds the first's record on disk
        process = _run_ask(kimi_emulator, data_dir, report)
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        outputs.append(orjson.loads(out))
    assert outputs == [
        {"uploads": 1, "text": "It says hello."},
        {"uploads": 0, "text": "It says hello."},
    ]
    assert uploads(kimi_emulator) == ["/v1/files"]
    copy = tmp_path / "copy-of-report.txt"  # same bytes, other name: still the same upload
    copy.write_bytes(report.read_bytes())
    both = [_run_ask(kimi_emulator, data_dir, copy) for _ in range(2)]  # at the same time
    assert [orjson.loads(p.communicate(timeout=60)[0])["uploads"] for p in both] == [0, 0]
    assert uploads(kimi_emulator) == ["/v1/files"]


def test_concurrent_first_asks_in_two_processes_upload_once(
    kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    paper = tmp_path / "paper.txt"
    paper.write_text("Both processes want this file at once.")
    both = [_run_ask(kimi_emulator, tmp_path / "data", paper) for _ in range(2)]
    counts = sorted(orjson.loads(p.communicate(timeout=60)[0])["uploads"] for p in both)
    assert counts == [0, 1]
    assert uploads(kimi_emulator) == ["/v1/files"]


def test_kimi_limits_are_clear_errors_before_any_upload(
    kimi: Kimi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # sparse: nothing is written, the size is what counts
        handle.truncate(MAX_FILE_BYTES + 1)
    binary = tmp_path / "archive.bin"
    binary.write_bytes(b"\x00\x01\x02PK" * 100)
    picture = tmp_path / "photo.png"
    picture.write_bytes(PNG)
    cases = [
        (empty, "kimi-k2.6", "empty.txt is empty"),
        (huge, "kimi-k2.6", f"huge.txt is {MAX_FILE_BYTES + 1} bytes; Kimi accepts at most"),
        (binary, "kimi-k2.6", "archive.bin: Kimi cannot extract text from .bin files"),
        (picture, "moonshot-v1-8k", "the model 'moonshot-v1-8k' does not take images"),
    ]
    for path, model, message in cases:
        with pytest.raises(FileLimitError, match=re.escape(message)):
            kimi.files.ask(path, "?", model=model)
    assert kimi_emulator.requests() == []
    with pytest.raises(FileLimitError, match=f"holds {MAX_FILES} files, its limit is 1000"):
        check_account([{"bytes": 1}] * MAX_FILES, 10)
    with pytest.raises(FileLimitError, match="would pass its limit"):
        check_account([{"bytes": 10 * 1024**3}], 1)


def test_a_file_kimi_cannot_read_is_an_error_and_not_remembered(
    kimi: Kimi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(KimiError, match=r"Kimi could not read broken\.pdf"):
        kimi.files.ask(broken, "?")
    assert kimi.files.aio.cache.records() == []
    deletes = [r for r in kimi_emulator.requests() if r["method"] == "DELETE"]
    assert len(deletes) == 1  # the failed upload is not left on the account


def test_images_go_as_ms_references(
    kimi: Kimi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(PNG)
    notes = tmp_path / "notes.txt"
    notes.write_text("The photo shows the office.")
    kimi.files.ask([notes, picture], "What is it? @@text:An office.@@", model="kimi-k2.6")
    [record] = [r for r in kimi.files.aio.cache.records() if r.purpose == "image"]
    messages = chat_bodies(kimi_emulator)[0]["messages"]
    assert isinstance(messages, list)
    assert messages[-1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is it? @@text:An office.@@"},
            {"type": "image_url", "image_url": {"url": f"ms://{record.file_id}"}},
        ],
    }
    upload = next(r for r in kimi_emulator.requests() if r["method"] == "POST")
    assert upload["path"] == "/v1/files"


def test_prune_deletes_on_kimi_and_forgets(
    kimi: Kimi, kimi_emulator: EmulatorServer, tmp_path: Path
) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("Prune me.")
    kimi.files.ask(doc, "?")
    assert kimi.files.prune(older_than=3600) == []  # just used: kept
    [pruned] = kimi.files.prune(everything=True)
    assert pruned.filename == "doc.txt"
    assert kimi.files.list() == []
    assert kimi.files.aio.cache.records() == []
    kimi.files.ask(doc, "?")
    assert kimi.files.uploads == 2  # forgotten, so sent again
    with pytest.raises(ValueError, match="older_than"):
        kimi.files.prune()

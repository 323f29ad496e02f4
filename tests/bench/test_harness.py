"""The benchmark harness's pure parts: fixed bodies, reply checks, wrk argv and output, /proc
parsing, the nginx stream switch, the report and its target verdicts, profile summaries.
No timings here (DESIGN.md §5: timing belongs in bench/)."""

import re
from pathlib import Path

import orjson
import pytest
from benchkit import fixtures, nginx, procstat, report, targets, validate, wrk
from benchkit import stacks as stacks_mod
from benchkit.cells import Cell, Measurement, Results, TargetRun, grid
from benchkit.machine import cpu_model
from benchkit.wrk import WrkResult

EXPECTED = (
    "Hello! This is a fixed reply from the benchmark upstream, eighteen pieces long, "
    "so every relay does work. "
)


def _data_events(body: bytes) -> list[bytes]:
    return [block[len(b"data: ") :] for block in body.split(b"\n\n") if block]


def test_kimi_stream_is_twenty_chunks_then_done() -> None:
    events = _data_events(fixtures.kimi_stream())
    assert len(events) == 21
    assert events[-1] == b"[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks[:2]] == [
        {"role": "assistant", "content": ""},
        {"content": "Hello! "},
    ]
    assert chunks[-1]["choices"] == [
        {
            "index": 0,
            "delta": {},
            "finish_reason": "stop",
            "usage": {
                "prompt_tokens": 57,
                "completion_tokens": 18,
                "total_tokens": 75,
                "cached_tokens": 0,
            },
        }
    ]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == EXPECTED
    assert {c["id"] for c in chunks} == {"chatcmpl-67c96964971a7a505b6ff17a"}


def test_kimi_completion_shape() -> None:
    body = orjson.loads(fixtures.kimi_completion())
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": EXPECTED}, "finish_reason": "stop"}
    ]
    assert body["usage"] == {
        "prompt_tokens": 57,
        "completion_tokens": 18,
        "total_tokens": 75,
        "cached_tokens": 0,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


@pytest.mark.parametrize(
    ("path", "stream", "body"),
    [
        ("same", False, fixtures.kimi_completion()),
        ("same", True, fixtures.kimi_stream()),
        ("translated", False, fixtures.anthropic_message()),
        ("translated", True, fixtures.anthropic_stream()),
    ],
)
def test_check_reply_accepts_the_fixed_replies(path: str, stream: bool, body: bytes) -> None:
    assert validate.check_reply(path, stream, 200, body) is None


def test_check_reply_names_what_is_wrong() -> None:
    assert validate.check_reply("same", False, 502, b'{"error":"x"}') == (
        'HTTP 502: b\'{"error":"x"}\''
    )
    cut = fixtures.kimi_stream().replace(b"data: [DONE]\n\n", b"")
    assert validate.check_reply("same", True, 200, cut) == (
        "stream did not end ([DONE] / message_stop missing)"
    )
    other = fixtures.kimi_completion().replace(b"Hello!", b"Bye!")
    assert validate.check_reply("same", False, 200, other) == (
        "text differs: 'Bye! This is a fixed reply from the benchmark upstream, eighteen pieces "
        "long, so every relay does work. '"
    )
    assert validate.check_reply("translated", False, 200, b"[]") == (
        "unexpected body (TypeError: list indices must be integers or slices, not str): b'[]'"
    )


def test_nginx_stream_switch_matches_compact_and_spaced_json() -> None:
    conf = nginx.render_config(Path("/w"), Path("/f"), 1000, 1001)
    raw = re.search(r'map \$request_body \$bench_stream \{ "~(.*)" 1;', conf)
    assert raw is not None
    pattern = re.compile(raw.group(1).replace('\\"', '"'))
    assert pattern.search(fixtures.openai_request(True).decode())
    assert pattern.search('{"model": "m", "stream": true}')
    assert not pattern.search(fixtures.openai_request(False).decode())
    assert "listen 127.0.0.1:1000 " in conf
    assert "listen 127.0.0.1:1001;" in conf


def test_wrk_command() -> None:
    argv = wrk.command(
        "http://127.0.0.1:9/v1/messages",
        Path("/b.json"),
        {"x-api-key": "k", "anthropic-version": "2023-06-01"},
        concurrency=32,
        seconds=6.0,
        cpu=0,
    )
    assert argv == [
        "taskset",
        "-c",
        "0",
        "wrk",
        "-t1",
        "-c32",
        "-d6s",
        "--timeout",
        "10s",
        "-s",
        str(wrk.LUA),
        "http://127.0.0.1:9/v1/messages",
        "--",
        "/b.json",
        "x-api-key:k",
        "anthropic-version:2023-06-01",
    ]


def test_wrk_parse() -> None:
    out = (
        "Running 3s test @ http://127.0.0.1:1/v1/chat/completions\n"
        'BENCH_JSON {"requests":1500,"duration_us":3000000,"bytes":10,"connect_errors":0,'
        '"read_errors":1,"write_errors":0,"status_errors":2,"timeouts":3,"p50_us":900,'
        '"p90_us":1200,"p99_us":4000,"mean_us":950.5,"max_us":9000}\n'
    )
    result = wrk.parse(out)
    assert result == WrkResult(1500, 3000000, 6, 900, 1200, 4000, 950.5)
    assert result.rps == 500.0
    with pytest.raises(wrk.WrkOutputError, match="unable to connect"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_proc_parsing() -> None:
    stat = "4242 (uvicorn: a (b) c) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 31 0 0 20 0 3 0"
    assert procstat.parse_stat(stat) == (17, 250, 31)
    status = "Name:\tpython\nVmHWM:\t  51200 kB\nVmRSS:\t  40960 kB\n"
    assert procstat.parse_status_kib(status, "VmRSS") == 40960
    assert procstat.parse_status_kib(status, "VmHWM") == 51200
    assert procstat.parse_status_kib(status, "VmSwap") == 0
    text = "cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 1 0 1 50 5 0 0 0 0 0\ncpu1 10 2 3 40 4 1 1 1 5 5\n"
    assert procstat.parse_cpu_busy(text, 1) == 18
    with pytest.raises(ValueError, match="no cpu7"):
        procstat.parse_cpu_busy(text, 7)


def test_cpu_model() -> None:
    assert cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n") == "AMD EPYC 7B13"
    assert cpu_model("") == "unknown"


def _m(cell: Cell, requests: int, p50: int, p99: int, cpu: float | None) -> Measurement:
    return Measurement(cell, WrkResult(requests, 5_000_000, 0, p50, p50, p99, float(p50)), cpu)


def _results() -> Results:
    direct = TargetRun("direct", "nginx", measures_process=False)
    gateway = TargetRun("gateway", "ours", idle_rss_kib=51200, peak_rss_kib=61440)
    litellm = TargetRun("litellm", "them", idle_rss_kib=409600, peak_rss_kib=419840)
    floor = TargetRun("floor", "floor", idle_rss_kib=40960, peak_rss_kib=40960, paths=("same",))
    for cell in grid():
        direct.measurements.append(_m(cell, 100_000, 40, 100, None))
        gateway.measurements.append(_m(cell, 10_000, 540, 2_100, 8.0))  # 0.8 ms/req
        if cell.path == "same":
            floor.measurements.append(_m(cell, 10_000, 400, 1_000, 6.0))
        if cell.path == "same":
            litellm.measurements.append(_m(cell, 500, 10_000, 30_000, 5.0))  # 10 ms/req
        else:
            litellm.measurements.append(
                Measurement(cell, note="HTTP 404: not served here, a longer reason")
            )
    return Results([direct, floor, gateway, litellm], {"CPU": "test"}, 5.0)


def test_table_rows() -> None:
    lines = report.table(_results()).splitlines()
    assert lines[0] == report.HEADER
    assert len(lines) == 2 + 8 + 4 + 8 + 8  # the floor serves the same-dialect path only
    assert lines[2] == (
        "| direct | same | non-stream | 1 | 20,000 | 0.040 | 0.000 | 0.100 | 0.000 "
        "| n/a | n/a | n/a |"
    )
    assert [line.split(" | ")[:4] for line in lines[10:14]] == [
        ["| floor", "same", "non-stream", "1"],
        ["| floor", "same", "non-stream", "32"],
        ["| floor", "same", "stream", "1"],
        ["| floor", "same", "stream", "32"],
    ]
    assert lines[14] == (
        "| gateway | same | non-stream | 1 | 2,000 | 0.540 | 0.500 | 2.100 | 2.000 | 0.800 "
        "| 50 | 60 |"
    )
    assert lines[26] == (
        "| litellm | translated | non-stream | 1 | n/a (HTTP 404: not served here, a longer r...) "
        "| n/a | n/a | n/a | n/a | n/a | 400 | 410 |"
    )


def test_checks_verdicts() -> None:
    items = {c.target: c for c in report.checks(_results())}
    assert len(items) == 19
    assert items["CPU/req non-stream ≤ 1/10 LiteLLM (c=1)"] == report.Check(
        "CPU/req non-stream ≤ 1/10 LiteLLM (c=1)",
        "CPU ms/req, same path, non-stream, c=1, gateway vs litellm: 0.800 vs 10.000 → 1/12.5 "
        "(limit 1/10)",
        "pass",
    )
    assert items["CPU/req stream ≤ 1.5 × floor (c=32)"] == report.Check(
        "CPU/req stream ≤ 1.5 × floor (c=32)",
        "CPU ms/req, same path, stream, c=32, gateway vs floor: 0.800 vs 0.600 → 1.33× "
        "(limit 1.5×)",
        "pass",
    )
    assert items["req/s non-stream c=32 ≥ 10 × LiteLLM"] == report.Check(
        "req/s non-stream c=32 ≥ 10 × LiteLLM",
        "req/s: 2,000 vs 100 → 20.0× (limit 10×)",
        "pass",
    )
    assert items["added p50 ≤ 1 ms (translated, stream, c=1)"] == report.Check(
        "added p50 ≤ 1 ms (translated, stream, c=1)",
        "+p50 over direct: 0.500 ms (limit 1 ms)",
        "pass",
    )
    assert items["idle RSS ≤ 1/4 LiteLLM"] == report.Check(
        "idle RSS ≤ 1/4 LiteLLM",
        "idle RSS MiB, gateway vs litellm: 50.000 vs 400.000 → 1/8.0 (limit 1/4)",
        "pass",
    )
    assert items["translated CPU/req stream ≤ 1/6 LiteLLM same (c=1)"].status == "pass"


def test_checks_fail_and_missing() -> None:
    results = _results()
    gateway = results.target("gateway")
    assert gateway is not None
    gateway.measurements = [
        _m(m.cell, 10_000, 2_000, 5_000, 20.0) if m.cell.concurrency == 1 else m
        for m in gateway.measurements
    ]
    litellm = results.target("litellm")
    assert litellm is not None
    litellm.idle_rss_kib = None
    items = {c.target: c for c in report.checks(results)}
    assert items["CPU/req non-stream ≤ 1/10 LiteLLM (c=1)"].detail == (
        "CPU ms/req, same path, non-stream, c=1, gateway vs litellm: 2.000 vs 10.000 → 1/5.0 "
        "(limit 1/10)"
    )
    assert items["CPU/req non-stream ≤ 1/10 LiteLLM (c=1)"].status == "fail"
    assert items["added p50 ≤ 1 ms (same, stream, c=1)"] == report.Check(
        "added p50 ≤ 1 ms (same, stream, c=1)", "+p50 over direct: 1.960 ms (limit 1 ms)", "fail"
    )
    assert items["idle RSS ≤ 1/4 LiteLLM"].status == "n/a"
    assert items["CPU/req non-stream ≤ 1/10 LiteLLM (c=32)"].status == "pass"


def test_results_markdown_has_every_section() -> None:
    text = report.results_markdown(_results(), "- a note")
    assert text.startswith("# Benchmark results\n")
    for heading in ("## Machine and versions", "## Results", "## Issue 5 targets", "## Notes"):
        assert heading in text
    assert "19 pass, 0 fail, 0 n/a." in text
    assert text.endswith("## Notes\n\n- a note\n")


def test_stack_summaries_drop_idle_and_group_by_package() -> None:
    loop = (
        "main (/w/src/kimi_gateway/cli/main.py:71);run_forever (/project/uvloop/loop.c:33192);"
        "uv_run (/project/build/libuv-x86_64/src/unix/core.c:452)"
    )
    raw = (
        f"{loop};uv__io_poll (/project/build/libuv-x86_64/src/unix/linux.c:1);"
        "0x7fc825ea3f16 (/usr/lib/x86_64-linux-gnu/libc.so.6) 7\n"
        f"{loop};handle (/v/site-packages/httpx/_client.py:10);"
        "feed (/w/src/kimi_gateway/dialects/openai_chat/stream.py:5) 30\n"
        f"{loop};handle (/v/site-packages/httpx/_client.py:11);"
        "write (/usr/lib/x86_64-linux-gnu/libc.so.6) 10\n"
        "_queue_SimpleQueue_get (/tmp/python-build.1/Python-3.11.7/Modules/_queuemodule.c:1);"
        "pthread_cond_timedwait (/usr/lib/x86_64-linux-gnu/libc.so.6) 99\n"
        "garbage line\n"
    )
    stacks = stacks_mod.parse_collapsed(raw)
    assert (stacks.samples, stacks.idle) == (40, 106)
    assert dict(stacks.packages) == {
        "kimi_gateway.dialects.openai_chat.stream": 30,
        "libc + kernel (syscalls)": 10,
    }
    assert stacks.inclusive["handle (httpx)"] == 40
    assert stacks.inclusive["run_forever (uvloop (C))"] == 40
    assert dict(stacks.self_) == {
        "feed (kimi_gateway.dialects.openai_chat.stream)": 30,
        "write (libc + kernel (syscalls))": 10,
    }
    text = stacks_mod.summary(stacks, 2.0, "t", top=1)
    assert "| 1.5000 | 75.0% | `kimi_gateway.dialects.openai_chat.stream` |" in text
    assert "40 CPU samples (106 idle dropped); 2.000 CPU ms/request" in text


@pytest.mark.parametrize(
    ("frame", "package"),
    [
        ("f (/v/lib/python3.11/site-packages/orjson/__init__.py:1)", "orjson (Rust)"),
        ("f (/v/lib/python3.11/site-packages/h11/_events.py:1)", "h11"),
        ("get (/r/.pyenv/versions/3.11.7/lib/python3.11/asyncio/queues.py:3)", "stdlib:asyncio"),
        ("PyObject_GetAttr (/r/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0)", "CPython (C)"),
        ("llhttp_execute (/project/httptools/parser/llhttp.c:1)", "httptools (C)"),
        ("__init__ (<frozen abc>)", "stdlib:abc"),
    ],
)
def test_package_of(frame: str, package: str) -> None:
    assert stacks_mod.package_of(frame) == package


def test_floor_follows_the_gateway_client() -> None:
    assert targets.client_in_sources(["import httpx\n", "x = 1\n"]) == "httpx"
    assert targets.client_in_sources(["import httpx\n", "import aiohttp\n"]) == "aiohttp"
    lineup = targets.Lineup(
        Path("/w"), "http://127.0.0.1:1", Path("/p/python"), None, "m", Path("/f/python")
    )
    floor = targets.floor_spec(lineup, 9)
    alt = targets.floor_alt_spec(lineup, 9)
    assert (floor.name, floor.argv[0], floor.argv[-1]) == ("floor", "/p/python", "httpx")
    assert (alt.name, alt.argv[0], alt.argv[-1]) == ("floor-aiohttp", "/f/python", "aiohttp")

"""tools/check_sizes.py (run by `make lint`) fails on an over-long function or module and passes
a compliant tree: run as `make lint` runs it, on small trees made here, so the check itself
cannot silently pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECKER = Path(__file__).resolve().parents[1] / "tools" / "check_sizes.py"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECKER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _function(name: str, body_lines: int, indent: str = "") -> str:
    """A function of exactly `body_lines + 1` lines (its def line and the body)."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(body_lines))
    return f"{indent}def {name}() -> None:\n{body}"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_compliant_tree_passes(tmp_path: Path) -> None:
    tree = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/ok.py": _function("fifty", 49) + "\n\nclass C:\n" + _function("m", 49, "    "),
            "pkg/sub/long_but_fine.py": "x = 1\n" * 400,
        },
    )
    result = _run(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_an_over_long_function_fails_with_its_path_name_and_count(tmp_path: Path) -> None:
    tree = _tree(
        tmp_path,
        {
            "pkg/ok.py": _function("fine", 10),
            "pkg/bad.py": "import os\n\n\n" + _function("too_long", 50),
        },
    )
    result = _run(tree)
    assert result.returncode == 1
    bad = tmp_path / "pkg" / "bad.py"
    assert result.stdout.splitlines() == [f"{bad}:4: function too_long is 51 lines (max 50)"]


def test_methods_and_nested_functions_are_checked_by_qualified_name(tmp_path: Path) -> None:
    head = "class Outer:\n    async def method(self) -> None:\n        pass\n\n"
    source = head + _function("inner", 60, "        ")
    result = _run(_tree(tmp_path, {"m.py": source}))
    assert result.returncode == 1
    names = [line.split(": ", 1)[1] for line in result.stdout.splitlines()]
    assert names == [
        "function Outer.method is 64 lines (max 50)",
        "function Outer.method.<locals>.inner is 61 lines (max 50)",
    ]


def test_an_over_long_module_fails_and_modules_only_skips_functions(tmp_path: Path) -> None:
    big = _tree(tmp_path, {"big.py": "x = 1\n" * 401, "f.py": _function("long", 80)})
    result = _run(big)
    assert result.returncode == 1
    assert f"{tmp_path / 'big.py'}:1: module big is 401 lines (max 400)" in result.stdout
    assert "function long is 81 lines" in result.stdout

    only_modules = _run("--modules-only", big)
    assert only_modules.returncode == 1
    assert "module big" in only_modules.stdout
    assert "function" not in only_modules.stdout


def test_the_limits_can_be_set(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {"m.py": _function("f", 5)})
    assert _run("--max-function-lines", "5", tree).returncode == 1
    assert _run("--max-function-lines", "6", "--max-module-lines", "6", tree).returncode == 0
    assert _run("--max-module-lines", "5", tree).returncode == 1


def test_an_exemption_allows_one_function_up_to_its_count_and_no_further(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {"m.py": _function("known", 55) + "\n\n" + _function("other", 52)})
    exempt = f"{tmp_path / 'm.py'}:known:56"
    result = _run("--exempt", exempt, tree)
    assert result.returncode == 1  # "other" is not exempt
    assert [line.split(": ", 1)[1] for line in result.stdout.splitlines()] == [
        "function other is 53 lines (max 50)"
    ]
    tree_known_only = _tree(tmp_path / "b", {"m.py": _function("known", 55)})
    assert _run("--exempt", f"{tmp_path / 'b' / 'm.py'}:known:56", tree_known_only).returncode == 0
    grown = _run("--exempt", f"{tmp_path / 'b' / 'm.py'}:known:55", tree_known_only)
    assert grown.returncode == 1
    assert "function known is 56 lines (max 50)" in grown.stdout


def test_an_exemption_that_matches_nothing_fails(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {"m.py": _function("short", 5)})
    result = _run("--exempt", f"{tmp_path / 'm.py'}:short:60", tree)
    assert result.returncode == 1
    assert "exemption matches no over-long function; remove it" in result.stdout

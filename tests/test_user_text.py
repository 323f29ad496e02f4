"""Text the gateway shows users (errors, diagnostics, log lines, setting descriptions) cites no
internal document (issue 9 item 12; docs/kimi.md §0.4): every string literal in the package
that is not a docstring is checked for section signs, paths into docs/, issue numbers and the
research-note confidence tags. Citations belong in comments and docstrings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "kimi_gateway"
CITATION = re.compile(r"§|docs/|kimi\.md|DESIGN\.md|\bissue \d|\[(?:O|3M|3C|O-code)\]")


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _citing_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    return [
        f"{path.relative_to(SRC)}:{node.lineno}: {node.value[:80]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CITATION.search(node.value)
    ]


def test_no_string_the_gateway_shows_cites_a_document() -> None:
    found = [hit for path in sorted(SRC.rglob("*.py")) for hit in _citing_strings(path)]
    assert found == []

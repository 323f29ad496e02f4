"""Size caps for the repo's own lint (`make lint`): a module at most 400 lines, a function or
method at most 50 (from its `def` line to its last line, docstring included; decorators not).

    python tools/check_sizes.py [--max-module-lines N] [--max-function-lines N | --modules-only]
                                [--exempt PATH:NAME:N]... PATH...

Each PATH is a .py file or a folder searched for .py files. Every offender is printed as
`path:line: what name is N lines (max M)`; the exit status is 1 when there is any, 0 otherwise.
`--exempt PATH:NAME:N` lets one known function (NAME as printed) be up to N lines while it waits
to be split: it fails again if it grows past N, and an exemption that matches nothing fails too,
so a fixed function cannot leave a stale exemption behind.
Standard library only, so it runs before (and without) the venv.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Offender:
    path: Path
    line: int
    kind: str  # "module" or "function"
    name: str
    count: int
    limit: int

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return f"{where}: {self.kind} {self.name} is {self.count} lines (max {self.limit})"


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The .py files named or under the folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if p.is_file())
        elif path.suffix == ".py":
            yield path
        else:
            raise FileNotFoundError(f"not a .py file or a folder: {path}")


def _functions(node: ast.AST, prefix: str) -> Iterator[tuple[str, Function]]:
    """Every function and method under `node`, nested ones too, with a qualified name."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _SCOPES):
            name = f"{prefix}{child.name}"
            if isinstance(child, _FUNCTIONS):
                yield name, child
                yield from _functions(child, f"{name}.<locals>.")
            else:
                yield from _functions(child, f"{name}.")
        else:
            yield from _functions(child, prefix)


def check_file(path: Path, max_module: int, max_function: int | None) -> list[Offender]:
    """The offenders in one file; `max_function` None checks the module's length only."""
    source = path.read_text(encoding="utf-8")
    found: list[Offender] = []
    lines = len(source.splitlines())
    if lines > max_module:
        found.append(Offender(path, 1, "module", path.stem, lines, max_module))
    if max_function is None:
        return found
    tree = ast.parse(source, filename=str(path))
    for name, func in _functions(tree, ""):
        end = func.end_lineno if func.end_lineno is not None else func.lineno
        length = end - func.lineno + 1
        if length > max_function:
            found.append(Offender(path, func.lineno, "function", name, length, max_function))
    return found


def check(paths: Iterable[Path], max_module: int, max_function: int | None) -> list[Offender]:
    return [o for f in python_files(paths) for o in check_file(f, max_module, max_function)]


def parse_exemption(text: str) -> tuple[str, str, int]:
    """PATH:NAME:N -> (path as given, name, N)."""
    path, name, count = text.rsplit(":", 2)
    return Path(path).as_posix(), name, int(count)


def apply_exemptions(
    offenders: list[Offender], exemptions: Sequence[tuple[str, str, int]]
) -> tuple[list[Offender], list[str]]:
    """The offenders no exemption covers, and the exemptions that matched no offender."""
    used: set[tuple[str, str, int]] = set()
    kept: list[Offender] = []
    for offender in offenders:
        key = (offender.path.as_posix(), offender.name)
        match = next((e for e in exemptions if (e[0], e[1]) == key), None)
        if match is not None and offender.kind == "function" and offender.count <= match[2]:
            used.add(match)
        else:
            kept.append(offender)
    stale = [f"{p}:{n}:{c}" for p, n, c in exemptions if (p, n, c) not in used]
    return kept, stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--max-module-lines", type=int, default=MAX_MODULE_LINES)
    parser.add_argument("--max-function-lines", type=int, default=MAX_FUNCTION_LINES)
    parser.add_argument(
        "--modules-only", action="store_true", help="cap module lengths, not function lengths"
    )
    parser.add_argument(
        "--exempt",
        action="append",
        default=[],
        type=parse_exemption,
        metavar="PATH:NAME:N",
        help="temporarily allow one named function up to N lines",
    )
    args = parser.parse_args(argv)
    max_function = None if args.modules_only else args.max_function_lines
    found = check(args.paths, args.max_module_lines, max_function)
    offenders, stale = apply_exemptions(found, args.exempt)
    for offender in offenders:
        print(offender)
    for exemption in stale:
        print(f"{exemption}: exemption matches no over-long function; remove it")
    if offenders or stale:
        print(f"check_sizes: {len(offenders)} over the caps, {len(stale)} stale", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

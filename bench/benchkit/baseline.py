"""``--baseline REF``: the gateway as it was at an earlier commit, as one more target.

REF is checked out once as a git worktree, ``bench/.work/baseline-<short sha>`` (gitignored,
reused when present), and served by ``gateway@<short sha>``: the project venv's Python with
that tree's ``src`` first on ``sys.path``, the ``gateway`` target's config (its own data dir).

Why that is enough: the venv has kimi_gateway as an editable install through a plain path entry
(``__editable__.kimi_gateway-*.pth`` holds the project's ``src``; no ``__editable__`` finder on
``sys.meta_path``). ``site`` appends .pth entries after the standard library, so an entry put
at position 0 wins. :func:`bootstrap` checks that at start and exits if kimi_gateway came from
anywhere else; :func:`verify_imports` checks every kimi_gateway module the server imports
before the run, and its answer goes into the report.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchkit.targets import ROOT, Lineup, Spec, clean_env, gateway_config, gateway_serve_args


class BaselineError(Exception):
    """The baseline tree could not be made, or would not import the baseline's code."""


@dataclass(frozen=True, slots=True)
class Baseline:
    ref: str  # as given on the command line
    sha: str  # full commit id
    short: str
    tree: Path  # the worktree
    imports: str = ""  # what verify_imports found

    @property
    def name(self) -> str:
        return f"gateway@{self.short}"

    @property
    def src(self) -> Path:
        return self.tree / "src"


def _git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise BaselineError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def ensure_worktree(work: Path, ref: str) -> Baseline:
    """The worktree of ``ref`` under ``work`` (made with ``git worktree add --detach`` unless a
    worktree of the same commit is already there)."""
    sha = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    short = _git("rev-parse", "--short", sha)
    tree = work / f"baseline-{short}"
    if not tree.exists():
        _git("worktree", "add", "--detach", str(tree), sha)
    try:
        head = _git("rev-parse", "HEAD", cwd=tree)
    except BaselineError as exc:
        raise BaselineError(f"{tree} is not a usable worktree (remove it): {exc}") from None
    if head != sha:
        raise BaselineError(f"{tree} is at {head}, not {sha} (remove it)")
    dirty = _git("status", "--porcelain", "--untracked-files=no", cwd=tree)
    if dirty:
        raise BaselineError(f"{tree} has local changes (remove it):\n{dirty}")
    return Baseline(ref, sha, short, tree)


def tree_state(root: Path) -> str:
    """What the ``gateway`` target runs: the working tree's commit, and whether src differs
    from it (other people's uncommitted edits are measured too)."""
    head = _git("rev-parse", "--short", "HEAD", cwd=root)
    changed = _git("status", "--porcelain", "--", "src", cwd=root).splitlines()
    where = f"working tree at {head}"
    return where + (f" + uncommitted changes in {len(changed)} src files" if changed else "")


def lineup_order(names: list[str], extra: str) -> list[str]:
    """``names`` with ``extra`` (the baseline gateway) right after "gateway"; unchanged when
    "gateway" is not run (there is nothing to compare) or ``extra`` is placed already."""
    if not extra or extra in names or "gateway" not in names:
        return names
    at = names.index("gateway") + 1
    return [*names[:at], extra, *names[at:]]


def bootstrap(src: Path) -> str:
    """``python -c`` code: put ``src`` first on sys.path, prove kimi_gateway comes from there
    (exit 3 if not), say so on stderr, then run the CLI with the remaining arguments."""
    package = src / "kimi_gateway"
    return (
        "import sys\n"
        f"src = {str(src)!r}\n"
        "if 'kimi_gateway' in sys.modules:\n"
        "    sys.exit('bench: kimi_gateway imported before sys.path was set')\n"
        "sys.path.insert(0, src)\n"
        "import kimi_gateway\n"
        f"if kimi_gateway.__file__ != {str(package / '__init__.py')!r} "
        f"or list(kimi_gateway.__path__) != [{str(package)!r}]:\n"
        "    print('bench: kimi_gateway from', kimi_gateway.__file__, file=sys.stderr)\n"
        "    sys.exit(3)\n"
        "print('bench: kimi_gateway from', kimi_gateway.__file__, file=sys.stderr, flush=True)\n"
    )


RUN_CLI = "from kimi_gateway.cli.main import main\nsys.argv[0] = 'kimi-gateway'\nsys.exit(main())\n"

# What the check imports after bootstrap(): the CLI and the server, then every kimi_gateway
# module loaded by then, one path a line.
LIST_MODULES = (
    "import kimi_gateway.cli.main, kimi_gateway.server.app, kimi_gateway.server.runner\n"
    "for name, module in sorted(sys.modules.items()):\n"
    "    if name == 'kimi_gateway' or name.startswith('kimi_gateway.'):\n"
    "        print(getattr(module, '__file__', None))\n"
)


def stray_modules(files: list[str], src: Path) -> list[str]:
    """The module files (as printed by LIST_MODULES) that are not under ``src`` (pure)."""
    root = str(src / "kimi_gateway") + "/"
    return [f for f in files if not f.startswith(root)]


def verify_imports(python: Path, baseline: Baseline) -> Baseline:
    """Import the baseline's CLI and server the way the target will; every kimi_gateway module
    must come from the baseline tree. Returns ``baseline`` with the finding."""
    code = bootstrap(baseline.src) + LIST_MODULES
    done = subprocess.run(
        [str(python), "-c", code],
        cwd=ROOT,
        env=clean_env({}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    files = done.stdout.split()
    if done.returncode != 0 or not files:
        raise BaselineError(f"baseline import check failed ({done.returncode}): {done.stderr}")
    stray = stray_modules(files, baseline.src)
    if stray:
        raise BaselineError(f"baseline imports modules from outside its tree: {stray[:5]}")
    found = (
        f"{len(files)} kimi_gateway modules, all under {baseline.src}/kimi_gateway "
        f"(kimi_gateway.__init__: {files[0]})"
    )
    return Baseline(baseline.ref, baseline.sha, baseline.short, baseline.tree, found)


def baseline_spec(lineup: Lineup, port: int, baseline: Baseline, name: str = "") -> Spec:
    """``gateway@<short sha>`` (or ``name``): the gateway target's config and CLI, the code of
    the baseline's tree."""
    config = lineup.work / f"{baseline.name}.yaml"
    data_dir = lineup.work / f"gateway-data-{baseline.short}"
    code = bootstrap(baseline.src) + RUN_CLI
    return Spec(
        name=name or baseline.name,
        description=f"the gateway at {baseline.ref} ({baseline.sha[:12]}): git worktree "
        f"`{baseline.tree.relative_to(ROOT)}`, project venv's Python with that tree's `src` "
        "first on sys.path (checked: " + (baseline.imports or "at start only") + "); "
        "same config as gateway (own data dir)",
        argv=[str(lineup.project_python), "-c", code, *gateway_serve_args(config, port)],
        env=clean_env({}),
        port=port,
        paths=("same", "translated"),
        startup_seconds=60,
        files={config: gateway_config(lineup.upstream, data_dir, "-")},
    )


def prepare(work: Path, ref: str, python: Path) -> Baseline:
    """The worktree, checked to import its own code; exits the harness with the reason if not."""
    try:
        return verify_imports(python, ensure_worktree(work, ref))
    except BaselineError as exc:
        print(f"bench: --baseline {ref}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

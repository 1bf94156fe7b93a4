"""Run pyarch-lint over the sdists of popular projects and count what it finds and what breaks.

    python benchmarks/sweep.py [--jobs 2] [--only django,flask] [--select ALL|default|PA5,...]

Downloads each project's source distribution from PyPI once (`pip download --no-deps
--no-binary :all:`, into the gitignored `benchmarks/.corpus/sweep/`), extracts it once, runs
`pyarch-lint --no-llm --no-cache --format json` over the extracted tree, and prints a Markdown
table: files, lines, findings per code and per 1,000 lines (the day-one budget compares the
default selection's with ruff's defaults), PA001/PA002 (files that do not parse or decode),
internal errors (PA003 findings, crashed rules, an exit status other than 0 or 1, a traceback)
and wall time.

Zero internal errors is the bar: the exit status is 1 when any project has one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus" / "sweep"
PROJECTS: dict[str, str] = {
    "django": "django==5.2.*",
    "flask": "flask",
    "requests": "requests",
    "fastapi": "fastapi",
    "sqlalchemy": "sqlalchemy",
    "aiohttp": "aiohttp",
    "celery": "celery",
    "pydantic": "pydantic",
    "httpx": "httpx",
    "rich": "rich",
}
ENGINE_CODES = ("PA001", "PA002", "PA003")


@dataclass(frozen=True, slots=True)
class Sweep:
    project: str
    version: str
    files: int
    lines: int  # in every .py file of the tree
    seconds: float
    counts: Counter[str]
    internal: list[str] = field(default_factory=list)


def _archive(folder: Path) -> Path | None:
    found = sorted(p for p in folder.iterdir() if p.name.endswith((".tar.gz", ".zip")))
    return found[-1] if found else None


def fetch(project: str, requirement: str, corpus: Path) -> Path:
    """The extracted source tree of `project`, downloading and extracting it the first time."""
    folder = corpus / project
    folder.mkdir(parents=True, exist_ok=True)
    archive = _archive(folder)
    if archive is None:
        command = [sys.executable, "-m", "pip", "download", requirement, "--no-deps"]
        command += ["--no-binary", ":all:", "--quiet", "-d", str(folder)]
        print(f"fetching {requirement} from PyPI ...", file=sys.stderr, flush=True)
        subprocess.run(command, check=True)
        archive = _archive(folder)
        if archive is None:
            sys.exit(f"pip downloaded no sdist for {requirement}")
    target = folder / "src"
    if not target.is_dir():
        _extract(archive, target)
    return target


def _extract(archive: Path, target: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(target)  # zipfile never writes outside `target`
        return
    with tarfile.open(archive) as bundle:
        # The "data" filter refuses absolute paths, links out of the tree and device files.
        if hasattr(tarfile, "data_filter"):
            bundle.extractall(target, filter="data")
        else:  # Python before 3.10.12 / 3.11.4: a PyPI sdist of a popular project is trusted
            bundle.extractall(target)


def _version(tree: Path) -> str:
    top = next((p.name for p in sorted(tree.iterdir()) if p.is_dir()), "?")
    return top.rpartition("-")[2]


def linter() -> Path:
    """The console script installed beside the interpreter running this script."""
    script = Path(sys.executable).parent / "pyarch-lint"
    if not script.exists():
        sys.exit(f"no pyarch-lint beside {sys.executable}: pip install -e . first")
    return script


def sweep(project: str, tree: Path, config: Path, jobs: int, select: str) -> Sweep:
    command = [str(linter()), "--no-llm", "--no-cache", "--format", "json"]
    command += ["--config", str(config), "--jobs", str(jobs), "."]
    if select != "default":
        command += ["--select", select]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    internal: list[str] = []
    if done.returncode not in (0, 1):
        internal.append(f"exit status {done.returncode}")
    internal += [
        line
        for line in done.stderr.splitlines()
        if line.startswith(("pyarch-lint: error", "pyarch-lint: internal error", "Traceback"))
    ]
    try:
        report = json.loads(done.stdout)
    except ValueError:
        internal.append("stdout is not JSON")
        return Sweep(project, _version(tree), 0, 0, seconds, Counter(), internal)
    findings = report["findings"]
    internal += [
        f"{f['path']}:{f['line']}: PA003 {f['message']}" for f in findings if f["code"] == "PA003"
    ]
    counts = Counter(str(f["code"]) for f in findings)
    lines = sum(len(path.read_bytes().splitlines()) for path in tree.rglob("*.py"))
    files = report["summary"]["files"]
    return Sweep(project, _version(tree), files, lines, seconds, counts, internal)


def table(results: Sequence[Sweep]) -> str:
    rule_codes = sorted({c for r in results for c in r.counts if c not in ENGINE_CODES})
    head = ["project", "version", "files", "lines", *rule_codes, *ENGINE_CODES]
    head += ["per 1k lines", "internal", "wall s"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r.project, r.version, str(r.files), str(r.lines)]
        cells += [str(r.counts.get(code, 0)) for code in (*rule_codes, *ENGINE_CODES)]
        per_1k = 1000 * sum(r.counts.values()) / r.lines if r.lines else 0.0
        cells += [f"{per_1k:.2f}", str(len(r.internal)), f"{r.seconds:.1f}"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--only", default="", help="comma-separated subset of the projects")
    parser.add_argument(
        "--select", default="ALL", help="rules to run (default ALL; `default`: the defaults)"
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="download/extract folder")
    args = parser.parse_args(argv)
    wanted = [name for name in args.only.split(",") if name] or list(PROJECTS)
    unknown = sorted(set(wanted) - set(PROJECTS))
    if unknown:
        parser.error(f"unknown projects: {', '.join(unknown)} (known: {', '.join(PROJECTS)})")
    args.corpus.mkdir(parents=True, exist_ok=True)
    # A config of the corpus's own: defaults, whatever pyproject.toml lies above or inside.
    config = args.corpus / "pyarch-lint.toml"
    config.write_text("# pyarch-lint's defaults: an empty [tool.pyarch-lint]\n", encoding="utf-8")
    results = []
    for name in wanted:
        tree = fetch(name, PROJECTS[name], args.corpus)
        result = sweep(name, tree, config, args.jobs, args.select)
        print(
            f"{name}: {result.files} files, {sum(result.counts.values())} findings, "
            f"{len(result.internal)} internal errors, {result.seconds:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        for problem in result.internal:
            print(f"  {problem}", file=sys.stderr)
        results.append(result)
    print(table(results), end="")
    return 1 if any(r.internal for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

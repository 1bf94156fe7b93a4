"""Benchmark pyarch-lint on the django 5.2 source against the bare LibCST parse-only floor.

    python benchmarks/bench.py [--jobs 2] [--one-file django/db/models/query.py]

Fetches the django sdist from PyPI once (`pip download`, into the gitignored
`benchmarks/.corpus/`), extracts it once, then measures with the same job count:

1. the floor: every .py file's bytes through `libcst.parse_module` in a process pool, nothing else;
2. a cold run: `pyarch-lint --no-llm --no-cache --jobs N --format json` in a subprocess;
3. a warm run: the cache filled by a previous run, nothing changed;
4. a one-file run (no cache: the work pre-commit does for one edited file).

Targets (2 cores): cold <= 1.3x the floor, warm <= 1 s, one file <= 0.5 s.

pyarch-lint runs as an installed tool does: with its modules' bytecode cached. Where
PYTHONDONTWRITEBYTECODE is set (some CI images and sandboxes do), every run would compile our
modules from source again, about 0.1 s that no installed copy pays (pip compiles on install);
the linter's runs here drop that variable, after one untimed run that writes the bytecode.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import libcst

if sys.platform == "win32":
    sys.exit("the benchmark measures CPU time with the `resource` module: Linux or macOS only")
import resource

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".corpus"
REQUIREMENT = "django==5.2.*"
CACHE_DIR_NAME = ".pyarch_lint_cache"
TARGET_COLD_RATIO = 1.3
TARGET_WARM_SECONDS = 1.0
TARGET_ONE_FILE_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Timed:
    seconds: float  # wall
    cpu: float  # user + system of this process and every child it waited for
    output: str = ""  # what the step printed (json), or a note


def _cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def fetch(corpus: Path) -> Path:
    """The extracted django source folder, downloading and extracting it the first time."""
    corpus.mkdir(parents=True, exist_ok=True)
    extracted = sorted(p for p in corpus.glob("django-5.2*") if p.is_dir())
    if extracted:
        return extracted[-1]
    archives = sorted(corpus.glob("django-5.2*.tar.gz"))
    if not archives:
        command = [sys.executable, "-m", "pip", "download", REQUIREMENT, "--no-deps"]
        command += ["--no-binary", ":all:", "--quiet", "-d", str(corpus)]
        print(f"fetching {REQUIREMENT} from PyPI ...", flush=True)
        subprocess.run(command, check=True)
        archives = sorted(corpus.glob("django-5.2*.tar.gz"))
    with tarfile.open(archives[-1]) as archive:
        # The "data" filter refuses absolute paths, links out of the tree and device files.
        if hasattr(tarfile, "data_filter"):
            archive.extractall(corpus, filter="data")
        else:  # Python before 3.10.12 / 3.11.4: a PyPI sdist of django is trusted input
            archive.extractall(corpus)
    return sorted(p for p in corpus.glob("django-5.2*") if p.is_dir())[-1]


def python_files(source: Path, config: Path) -> list[Path]:
    """The files pyarch-lint checks (its discovery, default excludes applied): the floor
    parses exactly the same set."""
    command = [str(linter()), "--config", str(config), "--show-files", "."]
    listing = subprocess.run(command, cwd=source, capture_output=True, text=True, check=True)
    return [source / line for line in listing.stdout.splitlines()]


def _parse(path: Path) -> int:
    """1 when the file parses; django's test suite holds a few deliberately broken files."""
    try:
        libcst.parse_module(path.read_bytes())
    except libcst.ParserSyntaxError:
        return 0
    return 1


def parse_floor(files: Sequence[Path], jobs: int) -> Timed:
    """Time to parse every file with LibCST, pool start-up included (as in a run)."""
    chunk = max(1, min(32, len(files) // (jobs * 8)))  # the engine's own chunking
    cpu = _cpu()
    start = time.perf_counter()
    if jobs <= 1:
        parsed = sum(_parse(path) for path in files)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            parsed = sum(pool.map(_parse, files, chunksize=chunk))
    elapsed = time.perf_counter() - start
    return Timed(elapsed, _cpu() - cpu, f"{parsed} of {len(files)} files parse")


def linter() -> Path:
    """The console script installed beside the interpreter running this benchmark."""
    script = Path(sys.executable).parent / "pyarch-lint"
    if not script.exists():
        sys.exit(f"no pyarch-lint beside {sys.executable}: pip install -e . first")
    return script


def bench_config(corpus: Path) -> Path:
    """A config of the corpus's own, so the run uses the defaults whatever pyproject.toml lies
    above (this repository's would exclude the corpus), with the cache in the corpus folder."""
    config = corpus / "pyarch-lint.toml"
    config.write_text("# pyarch-lint's defaults: an empty [tool.pyarch-lint]\n", encoding="utf-8")
    return config


def _as_installed() -> dict[str, str]:
    """The environment without PYTHONDONTWRITEBYTECODE: see the module's docstring."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_linter(args: Sequence[str], cwd: Path, config: Path) -> Timed:
    command = [str(linter()), "--no-llm", "--format", "json", "--config", str(config), *args]
    cpu = _cpu()
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=_as_installed(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed with exit {done.returncode}:\n{done.stderr}")
    return Timed(elapsed, _cpu() - cpu, done.stdout)


def best(runs: Sequence[Timed]) -> Timed:
    """The fastest of repeated runs: the one least disturbed by other load on the machine."""
    return min(runs, key=lambda run: run.seconds)


def _findings(output: str) -> list[dict[str, object]]:
    findings: list[dict[str, object]] = json.loads(output)["findings"]
    return findings


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _line(label: str, run: Timed, files: int) -> str:
    return (
        f"{label:<17}: {run.seconds:7.2f} s wall  {run.cpu:7.2f} s cpu  "
        f"{files / run.seconds:6.0f} files/s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step; best counts")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="download/extract folder")
    parser.add_argument(
        "--one-file",
        default="django/db/models/query.py",
        help="file for the one-file run, relative to the django source folder",
    )
    args = parser.parse_args(argv)
    jobs: int = args.jobs
    repeat = range(max(1, args.repeat))
    pool = ["--jobs", str(jobs), "."]

    source = fetch(args.corpus)
    config = bench_config(args.corpus)
    files = python_files(source, config)
    count = len(files)
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    print(f"corpus: {source} - {count} .py files, {lines:,} lines; jobs: {jobs}")

    run_linter(["--no-cache", args.one_file], source, config)  # untimed: writes the bytecode
    floor = best([parse_floor(files, jobs) for _ in repeat])
    print(f"{_line('parse-only floor', floor, count)}  ({floor.output})")

    cold = best([run_linter(["--no-cache", *pool], source, config) for _ in repeat])
    ratio, cpu_ratio = cold.seconds / floor.seconds, cold.cpu / floor.cpu
    print(
        f"{_line('cold run', cold, count)}  {ratio:.2f}x floor wall, {cpu_ratio:.2f}x cpu "
        f"(target <= {TARGET_COLD_RATIO}x: {_verdict(ratio <= TARGET_COLD_RATIO)})"
    )

    shutil.rmtree(args.corpus / CACHE_DIR_NAME, ignore_errors=True)
    fill = run_linter(pool, source, config)
    print(_line("cache-filling run", fill, count))
    warm = best([run_linter(pool, source, config) for _ in repeat])
    same = _findings(fill.output) == _findings(cold.output) == _findings(warm.output)
    print(
        f"{_line('warm run', warm, count)}  (target <= {TARGET_WARM_SECONDS} s: "
        f"{_verdict(warm.seconds <= TARGET_WARM_SECONDS)}); same findings as cold: {same}"
    )

    one = source / args.one_file
    one_lines = one.read_bytes().count(b"\n")
    single = best([run_linter(["--no-cache", args.one_file], source, config) for _ in repeat])
    print(
        f"{_line('one-file run', single, 1)}  ({args.one_file}, {one_lines} lines, no cache; "
        f"target <= {TARGET_ONE_FILE_SECONDS} s: "
        f"{_verdict(single.seconds <= TARGET_ONE_FILE_SECONDS)})"
    )

    findings = _findings(cold.output)
    counts = Counter(f"{f['code']} {f['name']}" for f in findings)
    print(f"findings on django: {len(findings)} in {len({f['path'] for f in findings})} files")
    for code, number in sorted(counts.items()):
        print(f"  {number:6}  {code}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

"""Never crash, never hang, never lose a finding: one bad file costs only its own findings.

Pathological nesting is refused before LibCST's native parser sees it (the parser would overflow
its stack and kill the process), and only what CPython itself refuses is refused. Whatever still
kills or stalls a worker - a real SIGSEGV, a native parse that runs for a minute holding the GIL,
a rule that never returns - becomes PA003 for that file, with --jobs 1 as with a pool.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import json
import os
import time
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner
from conftest import with_rule_class

import pyarch_lint.workers
from pyarch_lint.cache import CACHE_DIR_NAME, Cache
from pyarch_lint.checks.errors import BareExcept
from pyarch_lint.cli import main
from pyarch_lint.config import settings_from_toml
from pyarch_lint.engine import SourceFile, check_source, run, settings_fingerprint
from pyarch_lint.findings import Finding
from pyarch_lint.storage import open_store

PA3 = settings_from_toml('select = ["PA3"]')
SWALLOWING = b"try:\n    pass\nexcept:\n    pass\n"  # PA301 and PA302 on line 3


def _nested_ifs(depth: int) -> str:
    return "".join(" " * i + "if x:\n" for i in range(depth)) + " " * depth + "pass\n"


# CPython refuses each of these (SyntaxError, or RecursionError/MemoryError when compiling);
# LibCST would crash on most (about 1,200 brackets) or grind for minutes on the rest.
PATHOLOGICAL = {
    "open parens": "(" * 100_000,
    "closed parens": "x = " + "(" * 5_000 + "1" + ")" * 5_000 + "\n",
    "nested lists": "x = " + "[" * 1_100 + "]" * 1_100 + "\n",
    "nested dicts": "x = " + "{1: " * 300 + "1" + "}" * 300 + "\n",
    "nested calls": "x = " + "f(" * 3_000 + ")" * 3_000 + "\n",
    "1000 nested ifs": _nested_ifs(1_000),
    "unary chain": "x = " + "-" * 100_000 + "1\n",
    "operator chain": "x = " + "+".join(["1"] * 100_000) + "\n",
    "attribute chain": "x = a" + ".b" * 100_000 + "\n",
    "lambda chain": "x = " + "lambda: " * 100_000 + "1\n",
    "elif chain": "if a:\n    pass\n" + "elif a:\n    pass\n" * 5_000,
}


@pytest.mark.parametrize("source", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_nesting_is_pa001_in_process_without_reaching_libcst(source: str) -> None:
    started = time.monotonic()
    [finding] = check_source(source.encode(), "deep.py", PA3)  # a segfault would end the suite
    assert finding.code == "PA001"
    assert any(words in finding.message for words in ("nested", "too deeply", "indentation"))
    assert time.monotonic() - started < 10


# Valid for CPython, and just under its limits: the guard must let every one through.
DEEP_BUT_VALID = {
    "199 parens": "x = " + "(" * 199 + "1" + ")" * 199 + "\n",
    "99 nested ifs": _nested_ifs(99),
    "200-term chain": "x = " + " + ".join(["a"] * 200) + "\n",
    "800 attributes": "x = a" + ".b" * 800 + "\n",
}


@pytest.mark.parametrize("source", DEEP_BUT_VALID.values(), ids=DEEP_BUT_VALID.keys())
def test_the_guard_lets_through_whatever_python_compiles(source: str) -> None:
    compile(source, "valid.py", "exec")
    body = source + "try:\n    pass\nexcept:\n    pass\n"
    lines = body.count("\n")
    findings = check_source(body.encode(), "valid.py", PA3)
    assert [(f.code, f.line) for f in findings] == [("PA301", lines - 1), ("PA302", lines - 1)]


class _Hostile(BareExcept):
    """PA301, plus what no rule should do, on a handler whose body names the behaviour."""

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        body = cst.Module(body=[]).code_for_node(node.body)
        if "SEGFAULT" in body:
            ctypes.string_at(0)  # a real SIGSEGV, as LibCST's stack overflow gives
        if "HANG" in body:
            time.sleep(600)
        if "EXIT" in body:
            os._exit(3)
        if "OUT_OF_MEMORY" in body:
            raise MemoryError
        if "TOO_DEEP" in body:
            raise RecursionError("maximum recursion depth exceeded")
        super().visit_ExceptHandler(node)


HOSTILE = with_rule_class(PA3, "PA301", _Hostile)


def _tree(tmp_path: Path, bad: dict[str, str]) -> list[SourceFile]:
    """Good files around the bad ones, so that a lost batch would show."""
    contents = {f"good{i}.py": SWALLOWING for i in range(4)}
    contents.update(
        {name: f"try:\n    pass\nexcept:\n    {word}()\n".encode() for name, word in bad.items()}
    )
    files = []
    for name, data in sorted(contents.items()):
        (tmp_path / name).write_bytes(data)
        files.append(SourceFile(name, tmp_path / name))
    return files


def _by_file(findings: list[Finding]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for f in findings:
        result.setdefault(f.path, []).append(f"{f.line}:{f.code}")
    return result


GOOD = {f"good{i}.py": ["3:PA301", "3:PA302"] for i in range(4)}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_worker_killed_by_a_file_loses_only_that_file(tmp_path: Path, jobs: int) -> None:
    files = _tree(tmp_path, {"crash1.py": "SEGFAULT", "crash2.py": "SEGFAULT", "exits.py": "EXIT"})
    result = run(files, HOSTILE, jobs, None)
    by_file = _by_file(result.findings)
    for name in ("crash1.py", "crash2.py", "exits.py"):
        assert by_file.pop(name) == ["1:PA003"]
    assert by_file == GOOD
    messages = {f.path: f.message for f in result.findings if f.code == "PA003"}
    assert "killed by SIGSEGV" in messages["crash1.py"]
    assert "exit status 3" in messages["exits.py"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_past_file_timeout_is_stopped_and_the_run_goes_on(tmp_path: Path, jobs: int) -> None:
    files = _tree(tmp_path, {"hangs.py": "HANG"})
    settings = dataclasses.replace(HOSTILE, file_timeout=1.0)
    started = time.monotonic()
    result = run(files, settings, jobs, None)
    assert time.monotonic() - started < 15
    by_file = _by_file(result.findings)
    assert by_file.pop("hangs.py") == ["1:PA003"]
    assert by_file == GOOD
    [stopped] = [f for f in result.findings if f.path == "hangs.py"]
    assert stopped.message == "analysis exceeded file-timeout (1 s) and was stopped"


def test_a_native_parse_that_holds_the_gil_is_stopped_at_the_limit(tmp_path: Path) -> None:
    # Valid Python that LibCST's native parser takes about a minute over, never returning to
    # the interpreter in between: only killing the worker stops it.
    slow = tmp_path / "slow.py"
    slow.write_text("x = a" + "[0]" * 2_900 + "\n", encoding="utf-8")
    good = tmp_path / "good.py"
    good.write_bytes(SWALLOWING)
    files = [SourceFile("good.py", good), SourceFile("slow.py", slow)]
    started = time.monotonic()
    result = run(files, dataclasses.replace(PA3, file_timeout=2.0), 1, None)
    assert time.monotonic() - started < 12
    assert [(f.path, f.code) for f in result.findings] == [
        ("good.py", "PA301"),
        ("good.py", "PA302"),
        ("slow.py", "PA003"),
    ]


def test_where_no_process_can_start_files_are_analysed_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_pool: object) -> None:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(pyarch_lint.workers._Pool, "_start", refuse)
    result = run(_tree(tmp_path, {}), PA3, 2, None)
    assert _by_file(result.findings) == GOOD


def test_memory_and_recursion_errors_in_a_rule_are_named_on_the_file(tmp_path: Path) -> None:
    files = _tree(tmp_path, {"memory.py": "OUT_OF_MEMORY", "deep.py": "TOO_DEEP"})
    result = run(files, HOSTILE, 1, None)
    by_file = _by_file(result.findings)
    # The crashed rule's findings are missing; the file says so, the other rule still reports.
    assert by_file.pop("memory.py") == ["1:PA003", "3:PA302"]
    assert by_file.pop("deep.py") == ["1:PA003", "3:PA302"]
    assert by_file == GOOD
    messages = {f.path: f.message for f in result.findings if f.code == "PA003"}
    assert "rule PA301 (_Hostile) crashed: MemoryError" in messages["memory.py"]
    assert "RecursionError" in messages["deep.py"]
    assert len(result.crashes) == 2  # and the run says so: exit status 2


def test_a_crash_or_a_timeout_is_not_cached(tmp_path: Path) -> None:
    (tmp_path / "crash.py").write_bytes(b"try:\n    pass\nexcept:\n    SEGFAULT()\n")
    (tmp_path / "hang.py").write_bytes(b"try:\n    pass\nexcept:\n    HANG()\n")
    files = [SourceFile(name, tmp_path / name) for name in ("crash.py", "hang.py")]
    settings = dataclasses.replace(HOSTILE, file_timeout=1.0, root=tmp_path)
    for _ in range(2):  # the second run analyses both again, and still reports them
        store = open_store(tmp_path / CACHE_DIR_NAME, lambda _note: None)
        cache = Cache(store, settings_fingerprint(settings))
        result = run(files, settings, 1, cache)
        codes = [(f.path, f.code) for f in result.findings]
        assert codes == [("crash.py", "PA003"), ("hang.py", "PA003")]


def _hostile_tree(root: Path) -> None:
    root.mkdir()
    (root / "good.py").write_bytes(SWALLOWING)
    (root / "parens.py").write_text("(" * 100_000, encoding="utf-8")
    (root / "ifs.py").write_text(_nested_ifs(1_000), encoding="utf-8")
    os.mkfifo(root / "fifo.py")
    (root / "dir.py").mkdir()
    (root / "dir.py" / "inner.py").write_bytes(SWALLOWING)
    (root / "broken.py").symlink_to(root / "nowhere.py")
    (root / "loop.py").symlink_to(root / "loop.py")
    (root / "devnull.py").symlink_to("/dev/null")
    (root / "zero.py").symlink_to("/dev/zero")


@pytest.mark.parametrize("named", [False, True], ids=["walked", "named explicitly"])
def test_a_hostile_tree_is_reported_without_a_traceback_or_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: bool
) -> None:
    root = tmp_path / "tree"
    _hostile_tree(root)
    monkeypatch.chdir(root)
    paths = sorted(os.listdir(root)) if named else ["."]
    started = time.monotonic()
    done = CliRunner().invoke(
        main, ["--no-llm", "--no-cache", "-j", "1", "-v", "--format", "json", *paths]
    )
    assert time.monotonic() - started < 30
    assert done.exit_code == 1, done.output
    assert "Traceback" not in done.stderr
    found = [(f["path"], f["line"], f["code"]) for f in json.loads(done.stdout)["findings"]]
    assert found == [
        ("dir.py/inner.py", 3, "PA301"),
        ("dir.py/inner.py", 3, "PA302"),
        ("good.py", 3, "PA301"),
        ("good.py", 3, "PA302"),
        ("ifs.py", 101, "PA001"),
        ("parens.py", 1, "PA001"),
    ]
    for name, reason in [
        ("fifo.py", "not a regular file"),
        ("devnull.py", "not a regular file"),
        ("zero.py", "not a regular file"),
        ("broken.py", "No such file or directory"),
        ("loop.py", "Too many levels of symbolic links"),
    ]:
        assert f"{name}: {reason}" in done.stderr

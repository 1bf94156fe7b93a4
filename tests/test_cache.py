"""The content-addressed cache: a hit gives exactly what analysis gives, any change to a file's
bytes, the effective settings or the tool version misses, and a broken cache only warns."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import cache_payload, sign_cache_entry

import pyarch_lint.analysis
import pyarch_lint.cache
from pyarch_lint.cache import Analysis
from pyarch_lint.cli import main
from pyarch_lint.config import Settings

CACHE = ".pyarch_lint_cache"
SWALLOWING = "try:\n    pass\nexcept:\n    pass\n"  # PA301, PA302 on line 3
NESTED = (
    "def f(a: int) -> None:\n    if a:\n        if a:\n            if a:\n                pass\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nselect = ["PA1", "PA3"]\n', encoding="utf-8"
    )
    (root / "a.py").write_text(SWALLOWING, encoding="utf-8")
    (root / "b.py").write_text(SWALLOWING.replace("except:", "except Exception:"), "utf-8")
    (root / "nested.py").write_text(NESTED, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


class Analysed:
    """The sources the engine analyses, as a list. Analysis runs in (forked) worker processes,
    even with --jobs 1, so the spy records each source in a file they all append to."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.clear()

    def record(self, source: bytes) -> None:
        with self.log.open("a", encoding="ascii") as stream:
            stream.write(source.hex() + "\n")

    def sources(self) -> list[bytes]:
        return [bytes.fromhex(line) for line in self.log.read_text("ascii").splitlines()]

    def clear(self) -> None:
        self.log.write_text("", encoding="ascii")

    def __len__(self) -> int:
        return len(self.sources())

    def __eq__(self, other: object) -> bool:
        return self.sources() == other

    __hash__ = None  # type: ignore[assignment]


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Analysed:
    """The sources the engine actually analyses."""
    seen = Analysed(tmp_path / "analysed.log")
    real = pyarch_lint.analysis.analyse_source

    def spy(source: bytes, *args: object, **kwargs: object) -> Analysis:
        seen.record(source)
        return real(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pyarch_lint.analysis, "analyse_source", spy)
    return seen


def lint(*args: str) -> Result:
    return CliRunner().invoke(main, ["--no-llm", "--jobs", "1", "--format", "json", *args, "."])


def findings(result: Result) -> list[tuple[str, int, str]]:
    assert result.exit_code in (0, 1), result.output
    return [(f["path"], f["line"], f["code"]) for f in json.loads(result.stdout)["findings"]]


def test_a_cache_hit_gives_identical_output_without_analysing(
    project: Path, analysed: Analysed
) -> None:
    cold = lint()
    assert len(analysed) == 3
    assert (project / CACHE).is_dir()
    warm = lint()
    assert len(analysed) == 3  # nothing analysed again
    assert warm.stdout == cold.stdout
    assert warm.stderr == cold.stderr
    assert warm.exit_code == cold.exit_code == 1
    assert findings(warm) == [
        ("a.py", 3, "PA301"),
        ("a.py", 3, "PA302"),
        ("b.py", 3, "PA302"),
    ]


def test_a_cache_hit_is_the_same_for_every_job_count(project: Path) -> None:
    cold = CliRunner().invoke(main, ["--no-llm", "-j", "2", "--format", "json", "."])
    warm_one = lint()
    warm_two = CliRunner().invoke(main, ["--no-llm", "-j", "2", "--format", "json", "."])
    assert cold.stdout == warm_one.stdout == warm_two.stdout


def test_the_main_process_never_imports_libcst(project: Path) -> None:
    # LibCST costs a sixth of a second to import, and only the worker processes that analyse
    # files need it: a warm run, `--version` and `rules` never pay for it, and workers do not
    # inherit it (copying its pages on write costs more than the import).
    probe = (
        "import sys\n"
        "from pyarch_lint.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('libcst' in sys.modules, file=sys.stderr)\n"
    )

    def imports_libcst(*args: str) -> bool:
        command = [sys.executable, "-c", probe, *args]
        done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
        assert "Traceback" not in done.stderr
        return done.stderr.splitlines()[-1] == "True"

    assert not imports_libcst("--no-llm", ".")  # cold: the workers analyse
    assert not imports_libcst("--no-llm", ".")  # warm
    assert not imports_libcst("--no-llm", "--format", "sarif", ".")
    assert not imports_libcst("--version")
    assert not imports_libcst("rules")
    # The probe can tell: a process that analyses a file itself has it.
    check = "import sys, pyarch_lint.engine as e; e.check_source(b'x = 1', 'x.py', e.Settings())"
    tell = "; print('libcst' in sys.modules)"
    command = [sys.executable, "-c", check + tell]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "True"


def test_the_cache_folder_ignores_itself_for_git(project: Path) -> None:
    lint()
    assert (project / CACHE / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert (
        (project / CACHE / "CACHEDIR.TAG")
        .read_text(encoding="utf-8")
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )


def test_the_cache_lives_at_the_project_root_whatever_the_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "c.py").write_text(SWALLOWING, encoding="utf-8")
    monkeypatch.chdir(project / "pkg")
    lint()
    assert (project / CACHE).is_dir()
    assert not (project / "pkg" / CACHE).exists()


def test_a_changed_file_is_analysed_again_and_only_it(project: Path, analysed: Analysed) -> None:
    lint()
    analysed.clear()
    (project / "b.py").write_text("x = 1\n", encoding="utf-8")
    after = lint()
    assert analysed == [b"x = 1\n"]
    assert findings(after) == [("a.py", 3, "PA301"), ("a.py", 3, "PA302")]


def test_a_changed_selection_misses(project: Path, analysed: Analysed) -> None:
    lint()
    analysed.clear()
    narrowed = lint("--select", "PA301")
    assert len(analysed) == 3
    assert findings(narrowed) == [("a.py", 3, "PA301")]
    analysed.clear()
    (project / "pyproject.toml").write_text('[tool.pyarch-lint]\nselect = ["PA302"]\n', "utf-8")
    assert findings(lint()) == [("a.py", 3, "PA302"), ("b.py", 3, "PA302")]
    assert len(analysed) == 3


def test_a_changed_rule_option_misses(project: Path, analysed: Analysed) -> None:
    assert ("nested.py", 4, "PA101") not in findings(lint())
    analysed.clear()
    (project / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nselect = ["PA1", "PA3"]\n[tool.pyarch-lint.structure]\n'
        "max-nesting-depth = 2\n",
        encoding="utf-8",
    )
    assert ("nested.py", 4, "PA101") in findings(lint())
    assert len(analysed) == 3


def test_per_file_ignores_apply_to_cache_hits(project: Path, analysed: Analysed) -> None:
    lint()
    (project / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nselect = ["PA1", "PA3"]\n'
        '[tool.pyarch-lint.per-file-ignores]\n"a.py" = ["PA3"]\n',
        encoding="utf-8",
    )
    analysed.clear()
    assert findings(lint()) == [("b.py", 3, "PA302")]


def test_a_new_tool_version_misses(
    project: Path, analysed: Analysed, monkeypatch: pytest.MonkeyPatch
) -> None:
    lint()
    analysed.clear()
    monkeypatch.setattr(pyarch_lint.cache, "__version__", "999.0")
    lint()
    assert len(analysed) == 3


def _shards(project: Path) -> dict[str, int]:
    """Each shard's files and when it was last written."""
    return {
        ",".join(sorted(json.loads(cache_payload(shard))["files"])): shard.stat().st_mtime_ns
        for shard in (project / CACHE / "findings").iterdir()
    }


def test_one_shard_per_folder_written_only_when_its_files_change(
    project: Path, analysed: Analysed
) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "c.py").write_text(SWALLOWING, encoding="utf-8")
    lint()
    before = _shards(project)
    assert sorted(before) == ["a.py,b.py,nested.py", "c.py"]
    lint()  # warm: nothing analysed, nothing written
    assert _shards(project) == before
    (project / "pkg" / "c.py").write_text("x = 1\n", encoding="utf-8")
    analysed.clear()
    lint()
    assert analysed == [b"x = 1\n"]
    after = _shards(project)
    assert after["a.py,b.py,nested.py"] == before["a.py,b.py,nested.py"]
    assert after["c.py"] != before["c.py"]


def test_a_deleted_file_leaves_its_shard_when_the_shard_is_next_written(project: Path) -> None:
    lint()
    (project / "b.py").unlink()
    (project / "a.py").write_text("x = 1\n", encoding="utf-8")
    lint()
    assert list(_shards(project)) == ["a.py,nested.py"]


def test_a_run_on_one_file_keeps_the_others_cached(project: Path, analysed: Analysed) -> None:
    lint()
    (project / "a.py").write_text("x = 1\n", encoding="utf-8")
    analysed.clear()
    CliRunner().invoke(main, ["--no-llm", "a.py"])
    assert analysed == [b"x = 1\n"]
    analysed.clear()
    assert findings(lint()) == [("b.py", 3, "PA302")]
    assert analysed == []


def test_no_cache_neither_reads_nor_writes(project: Path, analysed: Analysed) -> None:
    lint("--no-cache")
    assert not (project / CACHE).exists()
    lint()
    analysed.clear()
    lint("--no-cache")
    assert len(analysed) == 3


def _entries(project: Path) -> list[Path]:
    return sorted((project / CACHE).rglob("*.json"))


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b'{"format": 3, "key": "someone else", "files": {}}',
        b'{"format": 1, "key": "%KEY%", "files": {}}',
        b'{"format": 3, "key": "%KEY%", "files": "all clear"}',
        b'{"format": 3, "key": "%KEY%", "files": {"a.py": "clean", "b.py": ["x", []]}}',
        b'{"format": 3, "key": "%KEY%", "files": {"a.py": [[], []], "b.py": [1, 2]}}',
        b'{"format": 3, "key": "%KEY%", "files": {"a.py": ["x", [], [0, [], []], "[]"]}}',
        b"\xff\xfe garbage",
    ],
)
def test_a_corrupt_entry_warns_and_is_recomputed(
    project: Path, analysed: Analysed, damage: bytes
) -> None:
    cold = lint()
    for entry in _entries(project):  # signed: as if a bug of ours had written it
        sign_cache_entry(entry, damage.replace(b"%KEY%", entry.stem.encode()))
    analysed.clear()
    again = lint()
    assert again.exit_code == cold.exit_code
    assert again.stdout == cold.stdout
    assert "pyarch-lint: warning: ignoring" in again.stderr
    assert len(analysed) == 3
    healed = lint()  # the recomputed entries replaced the damaged ones
    assert healed.stderr == cold.stderr
    assert healed.stdout == cold.stdout


def test_an_entry_not_signed_with_the_users_key_is_a_quiet_miss_noted_under_v(
    project: Path, analysed: Analysed
) -> None:
    cold = lint()
    for entry in _entries(project):
        entry.write_bytes(b"0" * 64 + b"\n" + cache_payload(entry))
    analysed.clear()
    again = lint()
    assert (again.stdout, again.stderr, again.exit_code) == (cold.stdout, cold.stderr, 1)
    assert len(analysed) == 3
    for entry in _entries(project):
        entry.write_bytes(cache_payload(entry))  # no signature line at all
    verbose = lint("-v")
    assert verbose.stdout == cold.stdout
    notes = [line for line in verbose.stderr.splitlines() if line.startswith("note: ")]
    assert notes == [
        f"note: ignoring cache entry {entry}: not written with this user's cache key "
        "(copied from elsewhere, or altered)"
        for entry in _entries(project)
    ]


def test_an_unusable_cache_folder_warns_once_and_never_fails(project: Path) -> None:
    (project / CACHE).write_text("not a folder\n", encoding="utf-8")
    result = lint()
    assert result.exit_code == 1
    assert findings(result) == findings(lint("--no-cache"))
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2, result.stderr  # one for reading, one for writing; not per file
    assert "cache not written" in result.stderr
    assert "results are unaffected" in result.stderr


def test_an_unusable_shard_folder_warns_once_and_never_fails(project: Path) -> None:
    lint()
    shards = project / CACHE / "findings"
    shutil.rmtree(shards)
    shards.write_text("", encoding="utf-8")  # where the folder of shards should be
    result = lint()
    assert result.exit_code == 1
    assert findings(result) == findings(lint("--no-cache"))
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2, result.stderr  # one for reading, one for writing


def _tamper(project: Path, change: Any) -> None:
    """Each entry of each shard through `change`, its excerpt and facts as JSON values."""
    for shard in _entries(project):
        document = json.loads(cache_payload(shard))
        for name, entry in document["files"].items():
            decoded = [*entry[:2], json.loads(entry[2]), json.loads(entry[3]), *entry[4:]]
            changed = change(decoded)
            document["files"][name] = [
                *changed[:2],
                *(part if isinstance(part, str) else json.dumps(part) for part in changed[2:4]),
                *changed[4:],
            ]
        sign_cache_entry(shard, json.dumps(document).encode())  # as if a bug of ours wrote it


def text_lint() -> Result:
    return CliRunner().invoke(main, ["--no-llm", "--jobs", "1", "."])


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e[:2],  # a format 2 entry: findings only
        lambda e: [*e[:2], "[1, [", *e[3:]],  # a part that is not JSON
        lambda e: [*e[:2], [10**6, [], []], *e[3:]],  # more lines than the file has
        lambda e: [*e[:2], [e[2][0], [[e[2][0], ["x"]], [0, ["y"]]], []], *e[3:]],  # line 0
        lambda e: [*e[:2], [e[2][0], [[1, ["x" * 10**5]]], []], *e[3:]],  # longer than the file
        lambda e: [*e[:2], [e[2][0], [[1, [7]]], []], *e[3:]],  # a line that is no text
        lambda e: [*e[:2], [e[2][0], [], [[1, None]]], *e[3:]],  # a scope that is no text
    ],
)
def test_an_entry_whose_excerpt_does_not_fit_the_file_is_recomputed_when_read(
    project: Path, analysed: Analysed, tamper: Any
) -> None:
    cold = text_lint()
    _tamper(project, tamper)
    analysed.clear()
    again = text_lint()
    assert again.stdout == cold.stdout
    assert "pyarch-lint: warning: ignoring invalid cache entry" in again.stderr
    assert len(analysed) == 3


def test_a_run_that_shows_no_source_lines_leaves_the_excerpts_unread(
    project: Path, analysed: Analysed
) -> None:
    cold = lint()
    _tamper(project, lambda e: [*e[:2], [e[2][0], [[1, [7]]], []], *e[3:]])
    analysed.clear()
    again = lint()  # JSON: the findings, no source lines
    assert (again.stdout, again.stderr) == (cold.stdout, cold.stderr)
    assert len(analysed) == 0
    assert "ignoring invalid cache entry" in text_lint().stderr


def test_an_entry_keeps_the_excerpt_and_facts_analysis_gave(project: Path) -> None:
    (project / "c.py").write_text("import os\n" + SWALLOWING, encoding="utf-8")
    lint()
    (shard,) = _entries(project)
    entry = json.loads(cache_payload(shard))["files"]["c.py"]
    analysis = pyarch_lint.analysis.analyse_source(
        (project / "c.py").read_bytes(), [], Settings.default()
    )
    assert json.loads(entry[3]) == json.loads(json.dumps(list(analysis.facts)))
    assert json.loads(entry[3])[0] == [["os", None, None, 0, 1, 1, False, False]]
    # Lines 2 to 5 frame the findings on line 4 (two either side; the file has 5 lines).
    assert json.loads(entry[2]) == [
        5,
        [[2, ["try:", "    pass", "except:", "    pass"]]],
        [[4, ""]],
    ]

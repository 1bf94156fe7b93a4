"""The engine end to end: a tree that mixes good files with every kind of awkward file still
reports every finding at the right place, whatever the job count, and a crashing rule is named
without losing anyone else's findings."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner, Result
from conftest import with_rule_class

import pyarch_lint.api
from pyarch_lint.checks.base import Rule, rule_hooks
from pyarch_lint.checks.errors import BareExcept
from pyarch_lint.checks.registry import BUILTIN_RULES, RuleInfo, load_rule_class
from pyarch_lint.cli import main
from pyarch_lint.config import Settings, settings_from_toml
from pyarch_lint.engine import SourceFile, check_source, run

MIXED = Path(__file__).parent / "fixtures" / "mixed"
PA3 = settings_from_toml('select = ["PA3"]')


def invoke(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, args)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A copy of the mixed tree, outside the repository and its configuration."""
    tree = tmp_path / "mixed"
    shutil.copytree(MIXED / "tree", tree)
    return tree


def _positions(output: str) -> list[str]:
    findings = json.loads(output)["findings"]
    return [f"{f['path']}:{f['line']}:{f['column']}: {f['code']}" for f in findings]


def test_the_fixture_files_are_what_they_claim_to_be() -> None:
    # A checkout that normalised line endings or re-encoded files would test nothing.
    tree = MIXED / "tree"
    assert (tree / "bom.py").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (tree / "crlf.py").read_bytes().count(b"\r\n") == 14
    assert b"\n" not in (tree / "crlf.py").read_bytes().replace(b"\r\n", b"")
    assert (tree / "empty.py").read_bytes() == b""
    with pytest.raises(UnicodeDecodeError):
        (tree / "undecodable.py").read_bytes().decode("utf-8")


def test_mixed_tree_reports_every_finding_at_its_place(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke(
        ["--no-llm", "--no-cache", "--jobs", "1", "--format", "json", "."], mixed, monkeypatch
    )
    assert result.exit_code == 1, result.output
    expected = (MIXED / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert _positions(result.stdout) == expected
    assert json.loads(result.stdout)["summary"]["files"] == 8


def test_mixed_tree_explains_the_unanalysable_files(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke(
        ["--no-llm", "--no-cache", "--jobs", "1", "--format", "json", "."], mixed, monkeypatch
    )
    by_path = {f["path"]: f for f in json.loads(result.stdout)["findings"] if f["code"] < "PA1"}
    assert by_path["syntax_error.py"]["name"] == "syntax-error"
    assert by_path["syntax_error.py"]["severity"] == "error"
    assert by_path["undecodable.py"]["name"] == "unreadable-file"
    assert "0xe9" in by_path["undecodable.py"]["message"]
    assert set(by_path) == {"syntax_error.py", "undecodable.py"}


def test_jobs_one_and_two_give_identical_output(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for fmt in ("json", "text"):
        one = invoke(
            ["--no-llm", "--no-cache", "-j", "1", "--format", fmt, "."], mixed, monkeypatch
        )
        two = invoke(
            ["--no-llm", "--no-cache", "-j", "2", "--format", fmt, "."], mixed, monkeypatch
        )
        assert one.exit_code == two.exit_code == 1
        assert one.stdout == two.stdout
        assert one.stderr == two.stderr


def test_positions_in_a_crlf_file_count_characters_per_line() -> None:
    source = (MIXED / "tree" / "crlf.py").read_bytes()
    findings = check_source(source, "crlf.py", PA3)
    assert [(f.line, f.column, f.end_line, f.end_column, f.code) for f in findings] == [
        (9, 5, 9, 30, "PA303"),
        (13, 5, 13, 33, "PA302"),
    ]


def test_a_bom_is_not_a_column() -> None:
    findings = check_source(b"\xef\xbb\xbftry: x = 1\nexcept: pass\n", "bom.py", PA3)
    assert {(f.line, f.column) for f in findings} == {(2, 1)}
    syntax = check_source(b"\xef\xbb\xbfdef f(:\n    pass\n", "bom.py", PA3)
    assert [(f.code, f.line, f.column) for f in syntax] == [("PA001", 1, 7)]


def test_a_lone_carriage_return_ends_a_line() -> None:
    findings = check_source(b"x = 1\rtry:\r    pass\rexcept:\r    pass\r", "cr.py", PA3)
    assert {(f.line, f.column) for f in findings} == {(4, 1)}


def test_tabs_count_as_one_column() -> None:
    source = b"if True:\n\ttry:\n\t\tpass\n\texcept Exception:\n\t\tpass\n"
    assert [(f.line, f.column) for f in check_source(source, "t.py", PA3)] == [(4, 2)]


@pytest.mark.parametrize(
    ("source", "line", "column", "words"),
    [
        (b"def broken(:\n    return 1\n", 1, 12, "invalid syntax"),
        (b"items = [\n    1,\n", 1, 9, "'[' was never closed"),
        (b"def f():\nreturn 1\n", 2, 1, "expected an indented block"),
        ("x = 'éééé' $\n".encode(), 1, 12, "invalid syntax"),  # characters, not bytes
        (b"x = 1\r\ndef f(:\r\n    pass\r\n", 2, 7, "invalid syntax"),
    ],
)
def test_syntax_errors_are_pa001_at_the_parsers_position(
    source: bytes, line: int, column: int, words: str
) -> None:
    [finding] = check_source(source, "bad.py", PA3)
    assert (finding.code, finding.line, finding.column) == ("PA001", line, column)
    assert words in finding.message


def test_syntax_libcst_half_knows_is_a_syntax_error_where_python_rejects_it() -> None:
    # 3.14's template strings: before 3.14, LibCST builds a tree of them that its own node checks
    # reject, which crashed whatever read the tree later (PA003, "Logic error!").
    source = b'def f(a):\n    return t"a {a}" t" b"\n'
    codes = [f.code for f in check_source(source, "tstrings.py", PA3)]
    assert codes == ([] if sys.version_info >= (3, 14) else ["PA001"])


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        (b'name = "caf\xe9"\n', 1, "byte 0xe9"),
        (b"x = 1\n\x00\n", 2, "NUL byte"),
        (b"# coding: klingon\nx = 1\n", 1, "klingon"),
        ("x = 1\n".encode("utf-16"), 1, "byte 0xff"),
    ],
)
def test_undecodable_files_are_pa002(source: bytes, line: int, words: str) -> None:
    [finding] = check_source(source, "bad.py", PA3)
    assert (finding.code, finding.line) == ("PA002", line)
    assert words in finding.message


def test_a_coding_declaration_is_honoured() -> None:
    source = b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\ntry:\n    pass\nexcept:\n    pass\n"
    codes = sorted(f.code for f in check_source(source, "latin.py", PA3))
    assert codes == ["PA301", "PA302"]


@pytest.mark.parametrize("source", [b"", b"\xef\xbb\xbf", b"\n\n", b"# only a comment\n"])
def test_empty_files_have_no_findings(source: bytes) -> None:
    assert check_source(source, "empty.py", PA3) == []


@pytest.mark.parametrize("source", [b"try:\n    pass\nexcept:\n    pass\n", b"def broken(:\n"])
def test_nodes_built_by_hand_are_still_validated_after_a_parse(source: bytes) -> None:
    # The engine skips LibCST's per-node validation while its parser builds a tree, and only
    # then: a parse that succeeds or fails leaves the check in place for everyone else.
    check_source(source, "f.py", PA3)
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleString("no quotes")


def test_engine_codes_cannot_be_deselected_by_select_only_by_ignore() -> None:
    broken = b"def broken(:\n"
    assert [
        f.code for f in check_source(broken, "b.py", settings_from_toml('select = ["PA303"]'))
    ] == ["PA001"]
    assert check_source(broken, "b.py", settings_from_toml('ignore = ["PA001"]')) == []


def test_a_file_that_cannot_be_read_is_pa002_and_the_run_goes_on(tmp_path: Path) -> None:
    # Deleted between discovery and reading (or unreadable): the same path in the engine.
    present = tmp_path / "present.py"
    present.write_bytes(b"try:\n    pass\nexcept:\n    pass\n")
    files = [SourceFile("gone.py", tmp_path / "gone.py"), SourceFile("present.py", present)]
    for jobs in (1, 2):
        result = run(files, PA3, jobs, None)
        assert [(f.path, f.line, f.code) for f in result.findings] == [
            ("gone.py", 1, "PA002"),
            ("present.py", 3, "PA301"),
            ("present.py", 3, "PA302"),
        ]
        assert "cannot read" in result.findings[0].message
        assert result.crashes == []


class _CrashingBareExcept(BareExcept):
    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        raise ValueError("boom")


@pytest.mark.parametrize(
    "info", [i for i in BUILTIN_RULES if i.rule_class is not None], ids=lambda info: info.code
)
def test_every_registered_rule_class_is_a_rule_with_hooks(info: RuleInfo) -> None:
    rule = load_rule_class(info)
    assert issubclass(rule, Rule)
    assert rule_hooks(rule), f"{info.rule_class} hooks nothing"


def test_a_crashing_rule_is_named_and_everything_else_still_reported(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rules are the run's input, built by the command line and carried by its settings.
    crashing = with_rule_class(Settings.default(), "PA301", _CrashingBareExcept).rules
    monkeypatch.setattr(pyarch_lint.api, "load_rule_set", lambda: crashing)
    result = invoke(["--no-llm", "-j", "1", "--format", "json", "."], mixed, monkeypatch)
    assert result.exit_code == 2
    assert "pkg/handlers.py: rule PA301 (_CrashingBareExcept) crashed: ValueError: boom" in (
        result.stderr
    )
    codes = [f"{f['path']}:{f['code']}" for f in json.loads(result.stdout)["findings"]]
    assert "pkg/handlers.py:PA301" not in codes
    assert codes.count("pkg/handlers.py:PA302") == 2
    assert "crlf.py:PA302" in codes
    # A crashed analysis is not cached: the next run (rule fixed) must see the file again.
    monkeypatch.undo()
    again = invoke(["--no-llm", "-j", "1", "--format", "json", "."], mixed, monkeypatch)
    assert again.exit_code == 1
    assert "pkg/handlers.py:PA301" in [
        f"{f['path']}:{f['code']}" for f in json.loads(again.stdout)["findings"]
    ]

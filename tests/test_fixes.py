"""`--fix`, `--unsafe-fixes`, `--diff`, the library's `fix_source` and `quick_fixes`, and
standard input (`-` with `--stdin-filename`).

The tree in fixtures/fixes/tree has every fix (PA202 `-> None`, PA303 `contextlib.suppress`,
PA401 `await asyncio.sleep`, PA004 unused noqa codes), nested ones, and the cases that must be
left alone; fixtures/fixes/fixed holds what `--fix` makes of the files it changes, byte for byte
(comments, blank lines, CRLF, BOM), and fixed_unsafe what `--unsafe-fixes` makes differently."""

from __future__ import annotations

import io
import shutil
import tokenize
import warnings
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURES, with_rule_class
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fixtures import _config, _fixture_files

from pyarch_lint import api, catalogue
from pyarch_lint.api import LintOptions
from pyarch_lint.checks.base import Fix, Rule
from pyarch_lint.cli import main
from pyarch_lint.config import settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.findings import Applicability, Severity
from pyarch_lint.fixes import QuickFix, fix_source, quick_fixes

TREE = FIXTURES / "fixes" / "tree"
FIXED = FIXTURES / "fixes" / "fixed"
FIXED_UNSAFE = FIXTURES / "fixes" / "fixed_unsafe"
BROKEN = {"pkg/broken.py"}  # a syntax error: never touched, never compiles


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "tree"
    shutil.copytree(TREE, copy)
    monkeypatch.chdir(copy)
    return copy


def run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["--no-llm", *args], input=stdin)


def contents(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".pyarch_lint_cache" not in p.parts
    }


def expected_tree(*layers: Path) -> dict[str, bytes]:
    """The tree's files, each replaced by its fixed version in the last layer that has one."""
    files = contents(TREE)
    for layer in layers:
        files.update(contents(layer))
    return files


def comments(source: bytes) -> list[str]:
    tokens = tokenize.tokenize(io.BytesIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def compiles(source: bytes) -> bool:
    try:
        compile(source, "<fixed>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


# -- the bar: the tree ----------------------------------------------------------------------


def test_fix_makes_exactly_the_expected_files(tree: Path) -> None:
    result = run("--fix", ".")
    assert contents(tree) == expected_tree(FIXED)
    assert "Fixed 21 findings in 6 files." in result.stderr
    assert result.exit_code == 1  # what remains is at or above fail-on (info)


def test_unsafe_fixes_fix_more(tree: Path) -> None:
    result = run("--fix", "--unsafe-fixes", ".")
    assert contents(tree) == expected_tree(FIXED, FIXED_UNSAFE)
    assert "Fixed 24 findings in 6 files." in result.stderr


def test_after_fix_no_safe_fix_is_left_every_file_compiles_and_a_second_fix_changes_nothing(
    tree: Path,
) -> None:
    run("--fix", ".")
    after = contents(tree)
    for name, source in after.items():
        if name.endswith(".py") and name not in BROKEN:
            assert compiles(source), name
    left = api.check(api.plan(LintOptions(paths=(Path("."),), escalate=False)))
    assert [f for f in left.findings if f.fix is Applicability.SAFE] == []
    assert {f.fix for f in left.findings} == {None, Applicability.UNSAFE}
    again = run("--fix", ".")
    assert contents(tree) == after
    assert "Fixed 0 findings in 0 files." in again.stderr


def test_comments_and_blank_lines_outside_fixed_spans_are_kept(tree: Path) -> None:
    before = contents(tree)
    run("--fix", "--unsafe-fixes", ".")
    for name, source in contents(tree).items():
        if not name.endswith(".py") or name in BROKEN:
            continue
        kept = [c for c in comments(before[name]) if "noqa" not in c]
        assert [c for c in comments(source) if "noqa" not in c] == kept, name
        blank = source.count(b"\n\n") + source.count(b"\r\n\r\n")
        assert blank >= before[name].count(b"\n\n") + before[name].count(b"\r\n\r\n"), name


def test_diff_prints_the_change_writes_nothing_and_exits_1(tree: Path) -> None:
    before = contents(tree)
    result = run("--diff", ".")
    assert contents(tree) == before
    assert result.exit_code == 1
    assert "--- pkg/service.py\n+++ pkg/service.py\n" in result.stdout
    assert "-def notify(message: str):  # the one place that prints\n" in result.stdout
    assert "+def notify(message: str) -> None:  # the one place that prints\n" in result.stdout
    assert "await asyncio.sleep" not in result.stdout  # unsafe: not without --unsafe-fixes
    assert "Would fix 21 findings in 6 files." in result.stderr
    unsafe = run("--diff", "--unsafe-fixes", ".")
    assert "+    await asyncio.sleep(delay)  # legacy\n" in unsafe.stdout
    assert contents(tree) == before


def test_diff_on_nothing_to_fix_prints_nothing_and_exits_0(tree: Path) -> None:
    result = run("--diff", "pkg/clean.py", "pkg/stub.pyi")
    assert (result.exit_code, result.stdout) == (0, "")


def test_text_output_marks_what_fix_fixes(tree: Path) -> None:
    result = run("--format", "concise", "pkg/worker.py")
    lines = result.stdout.splitlines()
    assert "pkg/worker.py:22:5: PA303 [*] `KeyboardInterrupt` is silenced" in lines[-1]
    assert "PA401 Blocking call" in lines[0]  # an unsafe fix: not marked by default
    assert result.stderr.endswith("[*] 1 fixable with --fix (2 more with --unsafe-fixes).\n")
    unsafe = run("--format", "concise", "--unsafe-fixes", "pkg/worker.py")
    assert "PA401 [*] Blocking call" in unsafe.stdout.splitlines()[0]
    assert unsafe.stderr.endswith("[*] 3 fixable with --fix --unsafe-fixes.\n")


def test_cached_findings_keep_their_marks_and_fix_still_works(tree: Path) -> None:
    cold = run("--format", "concise", ".")
    warm = run("--format", "concise", ".")
    assert warm.stdout == cold.stdout
    assert "[*]" in warm.stdout
    run("--fix", ".")  # after a warm run: the fixes are made again from each file
    assert contents(tree) == expected_tree(FIXED)


def test_a_symlink_is_never_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def f(x: int):\n    print(x)\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "link.py").symlink_to(outside)
    monkeypatch.chdir(project)
    result = run("--select", "PA202", "--fix", "link.py")
    assert outside.read_text() == "def f(x: int):\n    print(x)\n"
    assert (project / "link.py").is_symlink()
    assert "link.py: not fixed: a symlink, which is never followed" in result.stderr


def test_fix_cannot_go_with_a_baseline_or_add_noqa(tree: Path) -> None:
    assert run("--fix", "--add-noqa", ".").exit_code == 2
    result = run("--fix", "--changed-since", "HEAD", ".")
    assert result.exit_code == 2


# -- the library ----------------------------------------------------------------------------


SETTINGS = settings_from_toml('select = ["PA004", "PA202", "PA303", "PA401"]', where="test")


def test_fix_source_is_what_the_command_writes() -> None:
    source = (TREE / "pkg" / "service.py").read_bytes()
    result = fix_source(source, "pkg/service.py", SETTINGS, unsafe=True)
    assert result.source == (FIXED_UNSAFE / "pkg" / "service.py").read_bytes()
    assert result.fixed == 14
    assert [f.fix for f in result.remaining if f.fix] == []
    assert fix_source(result.source, "pkg/service.py", SETTINGS, unsafe=True).fixed == 0


def test_the_files_own_warnings_stay_quiet_while_a_fix_is_checked() -> None:
    source = b"def f(x: int):\n    if x is 1:\n        print(x)\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fix_source(source, "quiet.py", SETTINGS, unsafe=False)
    assert result.source.startswith(b"def f(x: int) -> None:")
    assert [w for w in caught if issubclass(w.category, SyntaxWarning)] == []


def _applied(source: bytes, quick: QuickFix) -> bytes:
    text = source.decode("utf-8")
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for edit in sorted(quick.edits, key=lambda e: (e.line, e.column), reverse=True):
        begin = starts[edit.line - 1] + edit.column - 1
        end = starts[edit.end_line - 1] + edit.end_column - 1
        text = text[:begin] + edit.text + text[end:]
    return text.encode("utf-8")


def test_each_quick_fix_fixes_its_finding_alone() -> None:
    source = (TREE / "pkg" / "service.py").read_bytes()
    before = check_source(source, "pkg/service.py", SETTINGS)
    quick = quick_fixes(source, "pkg/service.py", SETTINGS)
    assert {q.finding for q in quick} == {f for f in before if f.fix is not None}
    for one in quick:
        fixed = _applied(source, one)
        assert compiles(fixed)
        after = check_source(fixed, "pkg/service.py", SETTINGS)
        assert len(after) == len(before) - 1, one.title
        assert {(f.code, f.message) for f in after} < {(f.code, f.message) for f in before}
    suppress = next(q for q in quick if q.finding.code == "PA303")
    assert suppress.edits[0].text == "import contextlib\n"  # the import: an edit of its own


def test_quick_fixes_for_chosen_findings_only() -> None:
    source = (TREE / "pkg" / "worker.py").read_bytes()
    findings = check_source(source, "pkg/worker.py", SETTINGS)
    sleep = next(f for f in findings if f.code == "PA401" and f.fix is not None)
    [quick] = quick_fixes(source, "pkg/worker.py", SETTINGS, [sleep])
    assert quick.applicability is Applicability.UNSAFE
    assert quick.title == "Use `await asyncio.sleep(...)`"
    assert [(e.line, e.text) for e in quick.edits] == [(8, "await asyncio")]


_SNIPPETS = [
    "def plain(x: int):\n    print(x)\n",
    "def returns(x: int):\n    return x\n",
    "def gen(x: int):\n    yield x\n",
    "# about the next one\ndef commented(x: int):  # trailing\n\n    print(x)\n",
    "def guarded(x: int):\n    try:\n        print(x)\n    except KeyError:\n        pass\n",
    "def nested(x: int):\n    def inner(y: int):\n        try:  # why\n            print(y)\n"
    "        except (KeyError, ValueError):\n            pass\n    inner(x)\n",
    "async def pause(x: float):\n    time.sleep(x)\n",
    "async def guarded_pause(x: float):\n    try:\n        time.sleep(x)\n"
    "    except OSError:\n        pass\n",
    "value = 1  # noqa: PA202, E501\n",
    "other = 2  # noqa: PA401\n",
    "class Base:\n    def hook(self, x: int):\n        ...\n\n    def run(self, x: int):\n"
    "        self.hook(x)\n",
    "try:\n    import json\nexcept ImportError:\n    pass\n",
]


@given(
    st.lists(st.sampled_from(_SNIPPETS), min_size=1, max_size=8),
    st.booleans(),
    st.sampled_from(["", '"""A module."""\n', "import asyncio\nimport time\n"]),
)
@settings(max_examples=25, deadline=None)
def test_fixing_any_mix_compiles_keeps_comments_and_is_idempotent(
    parts: list[str], unsafe: bool, head: str
) -> None:
    source = (head + "\n\n".join(parts)).encode("utf-8")
    result = fix_source(source, "mix.py", SETTINGS, unsafe=unsafe)
    assert compiles(result.source)
    assert [c for c in comments(result.source) if "noqa" not in c] == [
        c for c in comments(source) if "noqa" not in c
    ]
    wanted = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    assert [f for f in result.remaining if f.fix in wanted] == []
    again = fix_source(result.source, "mix.py", SETTINGS, unsafe=unsafe)
    assert (again.source, again.fixed) == (result.source, 0)


# -- standard input -------------------------------------------------------------------------


SERVICE = (TREE / "pkg" / "service.py").read_bytes()


@pytest.fixture
def project(tree: Path) -> Path:
    (tree / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nselect = ["PA202", "PA303"]\nfail-on = "info"\n'
        'extend-exclude = ["generated/"]\n'
        '[tool.pyarch-lint.per-file-ignores]\n"app/quiet.py" = ["PA202"]\n'
    )
    return tree


def test_stdin_is_linted_as_the_file_it_is_named(project: Path) -> None:
    result = run("-", "--stdin-filename", "app/x.py", "--format", "concise", stdin=SERVICE)
    assert result.exit_code == 1
    assert result.stdout.startswith("app/x.py:12:1: PA202 [*] `notify` has no return")
    assert not (project / "app").exists()  # the file need not exist, and is not made


def test_stdin_under_an_excluded_name_has_no_findings(project: Path) -> None:
    result = run("-", "--stdin-filename", "generated/x.py", stdin=SERVICE)
    assert (result.exit_code, result.stdout) == (0, "")


def test_stdin_gets_the_per_file_ignores_of_its_name(project: Path) -> None:
    result = run("-", "--stdin-filename", "app/quiet.py", "--format", "concise", stdin=SERVICE)
    assert {line.split()[1] for line in result.stdout.splitlines()} == {"PA303"}


def test_stdin_gets_the_settings_of_its_names_folder(project: Path) -> None:
    (project / "lib").mkdir()
    (project / "lib" / "pyproject.toml").write_text('[tool.pyarch-lint]\nselect = ["PA303"]\n')
    result = run("-", "--stdin-filename", "lib/x.py", "--format", "concise", stdin=SERVICE)
    assert {line.split()[1] for line in result.stdout.splitlines()} == {"PA303"}


def test_stdin_fix_writes_the_fixed_source_to_stdout(project: Path) -> None:
    result = run("-", "--stdin-filename", "app/x.py", "--fix", stdin=SERVICE)
    fixed = fix_source(SERVICE, "app/x.py", api.settings_for(Path("app/x.py"), LintOptions()))
    assert result.stdout_bytes == fixed.source
    assert "app/x.py:18:1: PA202 `parse` has no return annotation" in result.stderr
    assert result.exit_code == 1


def test_stdin_diff_prints_the_diff_only(project: Path) -> None:
    result = run("-", "--stdin-filename", "app/x.py", "--diff", stdin=SERVICE)
    assert result.stdout.startswith("--- app/x.py\n+++ app/x.py\n")
    assert result.exit_code == 1


def test_stdin_needs_its_name_and_no_other_path(project: Path) -> None:
    assert run("-", stdin=SERVICE).exit_code == 2
    assert run("-", ".", "--stdin-filename", "x.py", stdin=SERVICE).exit_code == 2
    assert run(".", "--stdin-filename", "x.py").exit_code == 2


def test_rule_command_says_whether_a_rule_fixes() -> None:
    assert "## Fix\n\nSafe fix" in run_rule("PA202")
    assert "## Fix\n\nUnsafe fix" in run_rule("PA401")
    assert "No automatic fix" in run_rule("PA101")


def run_rule(code: str) -> str:
    return CliRunner().invoke(main, ["rule", code]).stdout


def _claims(code: str) -> set[Applicability]:
    """What a rule's document says of its fix: "Safe fix", "Unsafe fix", or both."""
    section = catalogue.load_catalogue()[code].sections.get("Fix", "").strip()
    claimed = set()
    if section.startswith("Safe fix"):
        claimed.add(Applicability.SAFE)
    if section.startswith("Unsafe fix") or "unsafe when" in section.split(".")[0]:
        claimed.add(Applicability.UNSAFE)
    return claimed


def test_each_rule_documents_its_fixes_as_they_are() -> None:
    seen: dict[str, set[Applicability]] = {}
    for path in _fixture_files():
        code = path.name[:5]
        lines = path.read_text(encoding="utf-8").splitlines()
        rule_settings = settings_from_toml(_config(lines, code), where=path.name)
        for finding in check_source(path.read_bytes(), path.name, rule_settings):
            if finding.fix is not None:
                seen.setdefault(finding.code, set()).add(finding.fix)
    for code, doc in catalogue.load_catalogue().items():  # the documents' bad examples too
        only = settings_from_toml(f'select = ["{code}"]')
        for example in doc.examples("Example"):
            for finding in check_source(example.encode(), f"{code}.py", only):
                if finding.fix is not None:
                    seen.setdefault(finding.code, set()).add(finding.fix)
    unused = FIXTURES / "suppress" / "unused.py"
    for finding in check_source(unused.read_bytes(), "unused.py", settings_from_toml("")):
        if finding.fix is not None:
            seen.setdefault(finding.code, set()).add(finding.fix)
    assert set(seen) == {"PA004", "PA202", "PA303", "PA401"}
    for code in catalogue.load_catalogue():
        assert seen.get(code, set()) <= _claims(code), code
        assert bool(_claims(code)) == (code in seen), code


class BreaksTheFile(Rule):
    """A rule whose fix would not compile: `await` in a plain function."""

    CODE = "PA101"
    NAME = "too-deep-nesting"
    SEVERITY = Severity.WARNING

    def visit_Pass(self, node: cst.Pass) -> None:
        broken = cst.Expr(cst.Await(cst.Name("x")))
        self.report(node, "a pass", Fix("Break it", True, node, broken))


def test_a_fix_whose_result_would_not_compile_is_dropped_with_a_note() -> None:
    settings = with_rule_class(
        settings_from_toml('select = ["PA101", "PA202"]'), "PA101", BreaksTheFile
    )
    source = b"def f(x: int):\n    pass\n\n\ndef g(y: int):\n    print(y)\n"
    result = fix_source(source, "x.py", settings)
    assert result.source == source.replace(b"g(y: int):", b"g(y: int) -> None:")
    assert result.fixed == 1
    assert result.notes == ("x.py:2:5: PA101: fix dropped: the fixed file would not compile",)
    assert [f.code for f in result.remaining if f.fix] == ["PA101"]

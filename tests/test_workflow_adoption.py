"""Adoption on existing code: `init`, the baseline, and `--changed-since`."""

from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import pytest
import tomlkit
from click.testing import Result
from conftest import git, invoke

from pyarch_lint import baseline
from pyarch_lint.checks.registry import BUILTIN
from pyarch_lint.config import Settings, settings_from_table
from pyarch_lint.excerpt import Scopes, def_spans, excerpt_of_bytes, scopes_of
from pyarch_lint.findings import Finding, Severity
from pyarch_lint.gitdiff import parse_diff
from pyarch_lint.init import render_table

BAD = """\
def load(path: str) -> str | None:
    try:
        return open(path).read()
    except:
        return None
"""
NEW_BAD = """

def save(path: str, text: str) -> None:
    try:
        open(path, "w").write(text)
    except:
        pass
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return tmp_path


def lint(*args: str) -> Result:
    return invoke("--no-llm", "--no-cache", "--jobs", "1", "--format", "concise", *args)


def headlines(result: Result) -> list[str]:
    return [" ".join(line.split(" ", 2)[:2]) for line in result.stdout.splitlines()]


# -- init -------------------------------------------------------------------------------------

UNUSUAL = (
    "# My project's settings.   Trailing spaces follow:   \n"
    "[project]\n"
    'name    =   "demo"        # aligned by hand\n'
    "dependencies = [\n"
    '  "requests",   # http\n'
    '    "click" ,\n'
    "]\n"
    "\n"
    "\n"
    "[tool.ruff]\n"
    "line-length=100\n"
    "lint.select = [ 'E' , 'F' ]\n"
    "\t# a tab-indented comment\n"
    "[tool.black]\n"
    "skip-string-normalization = true"  # no newline at the end of the file
)


def test_init_keeps_every_existing_byte_and_appends_the_table(folder: Path) -> None:
    pyproject = folder / "pyproject.toml"
    pyproject.write_bytes(UNUSUAL.encode())
    result = invoke("init")
    assert result.exit_code == 0, result.output
    written = pyproject.read_bytes()
    assert written.startswith(UNUSUAL.encode())
    assert written.decode().splitlines()[: len(UNUSUAL.splitlines())] == UNUSUAL.splitlines()
    document = tomlkit.parse(written.decode()).unwrap()
    assert document["tool"]["black"] == {"skip-string-normalization": True}
    assert document["tool"]["ruff"]["lint"]["select"] == ["E", "F"]
    assert "pyarch-lint" in document["tool"]
    assert "added [tool.pyarch-lint] to pyproject.toml" in result.stderr


def test_init_keeps_windows_line_endings(folder: Path) -> None:
    pyproject = folder / "pyproject.toml"
    original = b'[project]\r\nname = "demo"\r\n'
    pyproject.write_bytes(original)
    assert invoke("init").exit_code == 0
    written = pyproject.read_bytes()
    assert written.startswith(original)
    assert b"\n" not in written.replace(b"\r\n", b"")


def test_init_writes_every_default_each_with_a_comment(folder: Path) -> None:
    assert invoke("init").exit_code == 0  # no pyproject.toml yet: created
    text = (folder / "pyproject.toml").read_text()
    assert text == render_table(BUILTIN)
    table = tomlkit.parse(text).unwrap()["tool"]["pyarch-lint"]
    settings = settings_from_table(table)
    defaults = Settings.default()
    assert settings.enabled_codes() == defaults.enabled_codes()
    assert settings.llm == defaults.llm
    assert settings.rule_options == defaults.rule_options
    assert (settings.exclude, settings.extend_exclude) == (defaults.exclude, ())
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.startswith(("#", "[")):
            assert lines[number - 1].startswith("# "), f"no comment above {line!r}"
    # The section names of every rule-options class and the model's are there.
    assert {"llm", "structure", "annotations", "async"} <= set(table)


def test_init_refuses_an_existing_table_without_force(folder: Path) -> None:
    pyproject = folder / "pyproject.toml"
    original = '[tool.pyarch-lint]\nselect = ["PA3"]\n\n[tool.ruff]\nline-length = 100\n'
    pyproject.write_text(original)
    result = invoke("init")
    assert result.exit_code == 2
    assert "already has a [tool.pyarch-lint] table" in result.stderr
    assert "--force" in result.stderr
    assert pyproject.read_text() == original
    forced = invoke("init", "--force")
    assert forced.exit_code == 0, forced.output
    document = tomlkit.parse(pyproject.read_text()).unwrap()
    assert "select" not in document["tool"]["pyarch-lint"]
    assert document["tool"]["pyarch-lint"]["llm"]["deadline"] == 300.0
    assert document["tool"]["ruff"] == {"line-length": 100}
    assert "[tool.ruff]\nline-length = 100\n" in pyproject.read_text()


def test_init_on_a_file_it_cannot_extend_changes_nothing(folder: Path) -> None:
    pyproject = folder / "pyproject.toml"
    for text, message in [
        ("tool = { ruff = { line-length = 100 } }\n", "cannot add [tool.pyarch-lint]"),
        ("[project\nname = 1\n", "invalid TOML"),
    ]:
        pyproject.write_text(text)
        result = invoke("init")
        assert result.exit_code == 2
        assert message in result.stderr
        assert "pyproject.toml" in result.stderr
        assert pyproject.read_text() == text


def test_init_force_on_an_inline_tool_table_changes_nothing(folder: Path) -> None:
    pyproject = folder / "pyproject.toml"
    text = 'tool = { pyarch-lint = { select = ["PA3"] } }\n'
    pyproject.write_text(text)
    result = invoke("init", "--force")
    assert result.exit_code == 2
    assert "`tool` is an inline table" in result.stderr
    assert pyproject.read_text() == text


def test_init_force_replaces_a_table_split_around_others(folder: Path) -> None:
    pyproject = folder / "pyproject.toml"
    pyproject.write_text(
        '[tool.pyarch-lint]\nselect = ["PA3"]\n\n[tool.ruff]\nx = 1\n\n'
        '[tool.pyarch-lint.llm]\nmodel = "old"\n'
    )
    assert invoke("init", "--force").exit_code == 0
    document = tomlkit.parse(pyproject.read_text()).unwrap()
    assert document["tool"]["ruff"] == {"x": 1}
    assert document["tool"]["pyarch-lint"]["llm"]["model"] == Settings.default().llm.model
    assert "select" not in document["tool"]["pyarch-lint"]


def test_init_print_writes_nothing(folder: Path) -> None:
    result = invoke("init", "--print")
    assert result.exit_code == 0
    assert result.stdout == render_table(BUILTIN)
    assert not (folder / "pyproject.toml").exists()


# -- baseline ---------------------------------------------------------------------------------


def test_baseline_hides_recorded_findings_after_lines_move_and_reports_new_ones(
    folder: Path,
) -> None:
    (folder / "pkg").mkdir()
    app, other = folder / "pkg" / "app.py", folder / "pkg" / "other.py"
    app.write_text(BAD)
    other.write_text(BAD.replace("load", "fetch"))
    recorded = lint("--write-baseline", "baseline.json", ".")
    assert recorded.exit_code == 0, recorded.output
    assert "Recorded 4 findings in baseline.json." in recorded.stderr
    assert lint("--baseline", "baseline.json", ".").exit_code == 0

    app.write_text('"""The loader."""\nimport os\n\n' + BAD)  # every old finding moves down
    result = lint("--baseline", "baseline.json", ".")
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""

    app.write_text('"""The loader."""\nimport os\n\n' + BAD + NEW_BAD)
    result = lint("--baseline", "baseline.json", ".")
    assert result.exit_code == 1
    assert headlines(result) == ["pkg/app.py:14:5: PA301", "pkg/app.py:14:5: PA302"]


def test_baseline_counts_copies_and_notices_an_edited_line(folder: Path) -> None:
    app = folder / "app.py"
    app.write_text(BAD)
    assert lint("--select", "PA301", "--write-baseline", "base.json", ".").exit_code == 0
    copy = "    try:\n        pass\n    except:\n        pass\n"
    app.write_text(BAD + copy)  # the same mistake again, in the same function
    assert headlines(lint("--select", "PA301", "--baseline", "base.json", ".")) == [
        "app.py:8:5: PA301"
    ]
    app.write_text(BAD.replace("except:", "except:  # todo"))  # the flagged line itself changed
    assert lint("--select", "PA301", "--baseline", "base.json", ".").exit_code == 1


def test_baseline_file_is_stable_sorted_and_free_of_line_numbers(folder: Path) -> None:
    (folder / "b.py").write_text(BAD)
    (folder / "a.py").write_text(BAD + NEW_BAD)
    lint("--write-baseline", "one.json", ".")
    (folder / "a.py").write_text("\n\n" + BAD + NEW_BAD)
    lint("--write-baseline", "two.json", ".")
    one = (folder / "one.json").read_text()
    assert one == (folder / "two.json").read_text()  # moving code rewrites nothing
    document = json.loads(one)
    assert document["version"] == 1
    entries = document["findings"]
    keys = [(e["path"], e["code"], e["scope"], e["fingerprint"]) for e in entries]
    assert keys == sorted(keys)
    assert {e["path"] for e in entries} == {"a.py", "b.py"}
    assert {e["scope"] for e in entries} == {"load", "save"}
    assert all(set(e) == {"path", "code", "scope", "fingerprint", "count"} for e in entries)
    lines = one.splitlines()
    assert len(lines) == len(entries) + 5  # one finding per line between the brackets


def test_baseline_written_at_the_root_works_from_a_subfolder(folder: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(folder)], check=True)
    (folder / "src").mkdir()
    (folder / "src" / "app.py").write_text(BAD)
    assert lint("--write-baseline", "base.json", ".").exit_code == 0
    os.chdir(folder / "src")
    assert lint("--baseline", "../base.json", ".").exit_code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a pyarch-lint baseline"),
        ('{"version": 9, "findings": []}', "version 1"),
        ('{"version": 1, "findings": [{"path": 1}]}', "finding 1 must have"),
    ],
)
def test_a_broken_baseline_is_an_error(folder: Path, content: str, message: str) -> None:
    (folder / "app.py").write_text(BAD)
    (folder / "base.json").write_text(content)
    result = lint("--baseline", "base.json", ".")
    assert result.exit_code == 2
    assert "base.json" in result.stderr
    assert message in result.stderr


def test_a_missing_baseline_and_conflicting_options_are_errors(folder: Path) -> None:
    (folder / "app.py").write_text(BAD)
    result = lint("--baseline", "nowhere.json", ".")
    assert result.exit_code == 2
    assert "nowhere.json: cannot read the baseline" in result.stderr
    result = lint("--write-baseline", "a.json", "--baseline", "b.json", ".")
    assert result.exit_code == 2
    assert "cannot be combined" in result.stderr


# -- baseline: the def or class around a finding ----------------------------------------------

SCOPED = {
    "nested": (
        "import os\n\n\n@decorator(\n    arg=1,\n)\nclass Outer(Base, metaclass=Meta):\n"
        '    """Doc with def fake():\n    and class Fake: inside."""\n\n'
        "    x = {'a': [1, (2, 3)], 'b': f(g(h(i(j))))}\n\n"
        "    @property\n    def first(self) -> int:\n        return 1\n\n"
        "    async def second(self, *args: int, **kwargs: str) -> None:\n"
        "        async with lock:\n            pass\n        async for x in y:\n            pass\n"
        "        def inner(): return 2\n        class Local: pass\n"
        "        return None\n\n"
        "# a comment at column 0 after the class\n\ny = 2\n"
    ),
    # Fullwidth letters and the "fi" ligature: CPython reads `class Full` and `def file`.
    "unicode names are NFKC-normalised": (
        "class \uff26\uff55\uff4c\uff4c:\n    def \ufb01le(self):\n        pass\n"
    ),
}


def _scopes(text: str) -> Scopes:
    return scopes_of(def_spans(ast.parse(text)))


def test_baseline_scopes_of_a_nested_tree() -> None:
    lines = SCOPED["nested"].split("\n")
    scopes = _scopes(SCOPED["nested"])
    at = {lines[n - 1].strip(): scopes.at(n) for n in range(1, len(lines) + 1)}
    assert at["arg=1,"] == ""  # a decorator is outside what it decorates
    assert at["class Outer(Base, metaclass=Meta):"] == "Outer"
    assert at["@property"] == "Outer"
    assert at["return 1"] == "Outer.first"
    assert at["def inner(): return 2"] == "Outer.second.inner"
    assert at["class Local: pass"] == "Outer.second.Local"
    assert at["return None"] == "Outer.second"
    assert at["# a comment at column 0 after the class"] == ""
    assert at["y = 2"] == ""
    unicode = _scopes(SCOPED["unicode names are NFKC-normalised"])
    assert unicode.at(3) == "Full.file"


def test_baseline_scope_in_a_file_python_cannot_parse_is_the_module() -> None:
    engine = Finding("x.py", 2, 15, 2, 16, "PA001", "syntax-error", Severity.ERROR, "m")
    rule = engine._replace(code="PA201", name="missing-annotation")
    shown = {"x.py": excerpt_of_bytes(b"def f():\n    return 1 +\n", [(*engine[1:6], "m")])}
    keys = baseline.keys([engine, rule], shown, {})
    assert [key.scope for key in keys] == ["", ""]
    assert keys[0].fingerprint == baseline.fingerprint("PA001", "", "return 1 +")


def test_baseline_of_a_file_named_with_undecodable_bytes(folder: Path) -> None:
    name = os.fsdecode(b"bad\xff.py")
    try:
        (folder / name).write_text(BAD)
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only valid UTF-8 names")
    recorded = lint("--write-baseline", "base.json", ".")
    assert recorded.exit_code == 0, recorded.output
    text = (folder / "base.json").read_bytes().decode("utf-8")  # valid UTF-8 throughout
    assert {e["path"] for e in json.loads(text)["findings"]} == {"bad\\xff.py"}
    assert lint("--baseline", "base.json", ".").exit_code == 0
    (folder / name).write_text(BAD + NEW_BAD)
    result = lint("--format", "gitlab", "--baseline", "base.json", ".")
    assert result.exit_code == 1, result.output
    assert {i["location"]["path"] for i in json.loads(result.stdout)} == {"bad\\xff.py"}


# -- --changed-since --------------------------------------------------------------------------


@pytest.fixture
def repo(folder: Path) -> Path:
    git(folder, "init", "--quiet")
    (folder / "app.py").write_text(BAD)
    (folder / "untouched.py").write_text(BAD)
    git(folder, "add", ".")
    git(folder, "commit", "--quiet", "-m", "start")
    return folder


def test_changed_since_reports_only_changed_lines(repo: Path) -> None:
    (repo / "app.py").write_text("import os\n" + BAD + NEW_BAD)
    result = lint("--changed-since", "HEAD", ".")
    assert result.exit_code == 1
    assert headlines(result) == ["app.py:12:5: PA301", "app.py:12:5: PA302"]
    assert "Found 2 warnings in 1 file." in result.stderr  # untouched.py is not checked


def test_changed_since_counts_staged_and_untracked_files(repo: Path) -> None:
    (repo / "staged.py").write_text(BAD)
    git(repo, "add", "staged.py")
    (repo / "new.py").write_text(BAD)
    result = lint("--changed-since", "HEAD", "--select", "PA301", ".")
    assert headlines(result) == ["new.py:4:5: PA301", "staged.py:4:5: PA301"]


def test_changed_since_with_nothing_changed_is_clean(repo: Path) -> None:
    result = lint("--changed-since", "HEAD", ".")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_changed_since_escalates_only_changed_files(repo: Path) -> None:
    (repo / "app.py").write_text(BAD + NEW_BAD)
    result = invoke("--no-cache", "--jobs", "1", "--llm-dry-run", "--changed-since", "HEAD", ".")
    assert "llm dry run: would send app.py " in result.stderr
    assert "llm dry run: 1 file," in result.stderr
    assert "untouched.py" not in result.output


def test_changed_since_outside_a_repository_or_with_an_unknown_ref_exits_2(
    folder: Path, repo: Path
) -> None:
    unknown = lint("--changed-since", "no-such-branch", ".")
    assert unknown.exit_code == 2
    assert "unknown git revision 'no-such-branch'" in unknown.stderr
    option_like = lint("--changed-since", "--output=x", ".")
    assert option_like.exit_code == 2
    assert not (repo / "x").exists()
    outside = folder.parent / f"{folder.name}-plain"
    outside.mkdir()
    (outside / "app.py").write_text(BAD)
    os.chdir(outside)
    result = lint("--changed-since", "HEAD", ".")
    assert result.exit_code == 2
    assert "needs a git repository" in result.stderr


def test_write_baseline_with_changed_since_is_refused(repo: Path) -> None:
    result = lint("--changed-since", "HEAD", "--write-baseline", "b.json", ".")
    assert result.exit_code == 2
    assert not (repo / "b.json").exists()


def test_parse_diff_reads_hunks_new_files_deletions_and_quoted_names() -> None:
    diff = b"""\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,0 +2,3 @@ def f():
+a
+b
+c
@@ -10,2 +13 @@
+d
@@ -20 +22,0 @@
diff --git a/gone.py b/gone.py
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
diff --git "a/we\\"ird \\303\\251.py" "b/we\\"ird \\303\\251.py"
--- /dev/null
+++ "b/we\\"ird \\303\\251.py"
@@ -0,0 +1 @@
+x
"""
    assert parse_diff(diff) == {"app.py": {2, 3, 4, 13}, 'we"ird \u00e9.py': {1}}

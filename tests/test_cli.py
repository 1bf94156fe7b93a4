"""The command line as users and scripts meet it: exit codes, output shapes, subcommands, the
installed console script, `python -m pyarch_lint`, and a start that never imports anthropic."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from conftest import invoke

import pyarch_lint.api
from pyarch_lint import __version__
from pyarch_lint.checks.registry import BUILTIN_RULES, ENGINE_CODES

CLI_FIXTURES = Path(__file__).parent / "fixtures" / "cli"
BIN = Path(sys.executable).parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/fixtures/cli/project as the current folder: its own pyproject.toml
    (select = PA3), `app/` with findings, `clean/` without."""
    root = tmp_path / "project"
    shutil.copytree(CLI_FIXTURES / "project", root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return root


def lint(*args: str) -> Result:
    """A deterministic, uncached, in-process run."""
    return invoke("--no-llm", "--no-cache", "--jobs", "1", *args)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "NO_COLOR")}
    env.update(extra)
    return env


# -- exit codes -------------------------------------------------------------------------------


def test_exit_0_when_clean(project: Path) -> None:
    result = lint("clean")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "All checks passed: 2 files, no findings.\n"


def test_the_all_clean_line_counts_one_file_in_the_singular(project: Path) -> None:
    assert lint("clean/tidy.py").stderr == "All checks passed: 1 file, no findings.\n"


def test_exit_1_with_findings(project: Path) -> None:
    result = lint("app")
    assert result.exit_code == 1, result.output
    assert "app/service.py:9:5: PA301 " in result.stdout


def test_exit_zero_reports_findings_and_exits_0(project: Path) -> None:
    result = lint("--exit-zero", "--format", "concise", "app")
    assert result.exit_code == 0
    assert result.stdout == lint("--format", "concise", "app").stdout != ""


def test_the_default_path_is_the_current_folder(project: Path) -> None:
    assert lint("--format", "json").stdout == lint("--format", "json", ".").stdout
    assert json.loads(lint("--format", "json").stdout)["summary"]["files"] == 4


def test_a_missing_path_is_exit_2_after_the_other_paths_are_checked(project: Path) -> None:
    result = lint("--format", "concise", "app", "no/such/place.py")
    assert result.exit_code == 2
    assert result.stdout == lint("--format", "concise", "app").stdout != ""
    assert result.stderr.splitlines() == [
        "pyarch-lint: error: no/such/place.py: no such file or directory",
        "Found 5 findings (3 warnings, 2 info) in 2 files.",
        "[*] 2 fixable with --fix.",
    ]


def test_only_missing_paths_is_exit_2_naming_each(project: Path) -> None:
    result = lint("nope.py", "gone/")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "pyarch-lint: error: nope.py: no such file or directory",
        "pyarch-lint: error: gone: no such file or directory",
        "No files to check.",
    ]


def test_show_files_with_a_missing_path_lists_the_others_and_exits_2(project: Path) -> None:
    result = lint("--show-files", "clean", "nope.py")
    assert result.exit_code == 2
    assert result.stdout.splitlines() == ["clean/__init__.py", "clean/tidy.py"]
    assert "nope.py: no such file or directory" in result.stderr


def test_write_baseline_refuses_a_missing_path(project: Path) -> None:
    result = lint("--write-baseline", "base.json", "app", "nope.py")
    assert result.exit_code == 2
    assert "nope.py: no such file or directory" in result.stderr
    assert not (project / "base.json").exists()  # it would hide nope.py's findings later


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--format", "yaml"], "'yaml' is not one of"),
        (["--jobs", "0"], "0 is not in the range x>=1"),
        (["--no-such-option"], "No such option"),
        (["--select", "PA999"], "PA999"),
        (["--ignore", "E501"], "E501"),
        (["--explain", "--format", "json"], "--explain"),
    ],
)
def test_exit_2_for_usage_errors(project: Path, args: list[str], words: str) -> None:
    result = lint(*args, "app")
    assert result.exit_code == 2
    assert words in result.stderr
    assert result.stdout == ""


def test_exit_2_with_one_line_for_an_internal_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pyarch_lint.api, "run", explode)
    result = lint("app")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "pyarch-lint: internal error: RuntimeError: disk on fire (run with -v for the traceback)"
    ]
    verbose = lint("-v", "app")
    assert verbose.exit_code == 2
    assert "Traceback (most recent call last)" in verbose.stderr


# -- exit status by severity --------------------------------------------------------------------

UNTYPED_TEST = "def test_x():\n    assert True\n"  # PA202, info: what a test file is full of


def with_table(project: Path, text: str) -> None:
    """`text` added to the project's [tool.pyarch-lint] (select = PA3)."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_tree_whose_only_findings_are_info_exits_0_and_shows_them(project: Path) -> None:
    (project / "test_untyped.py").write_text(UNTYPED_TEST, encoding="utf-8")
    result = lint("--select", "PA2", "--format", "concise", "test_untyped.py")
    assert result.exit_code == 0, result.output
    [finding] = headlines(result.stdout)  # PA202, or one for the module where none is typed
    assert finding.startswith("test_untyped.py:1:1: PA2")
    assert result.stderr == "Found 1 info finding in 1 file.\n"
    assert lint("--select", "PA2", "--fail-on", "info", "test_untyped.py").exit_code == 1


def test_fail_on_from_the_config_and_the_command_line_on_top(project: Path) -> None:
    # app/__init__.py: one PA303 (info); app/service.py: two warnings and a PA303.
    assert lint("app/__init__.py").exit_code == 0
    assert lint("app").exit_code == 1
    assert lint("--fail-on", "error", "app").exit_code == 0
    with_table(project, 'fail-on = "info"\n')
    assert lint("app/__init__.py").exit_code == 1
    assert lint("--fail-on", "warning", "app/__init__.py").exit_code == 0
    assert lint("--exit-zero", "app").exit_code == 0  # --exit-zero still wins
    shown = lint("--show-settings").stdout.splitlines()
    assert "fail-on: 'info'" in shown
    assert "severity: {}" in shown


def test_a_severity_override_is_what_the_exit_status_and_every_report_see(project: Path) -> None:
    with_table(project, '\n[tool.pyarch-lint.severity]\nPA303 = "warning"\nPA301 = "info"\n')
    assert lint("app/__init__.py").exit_code == 1  # its only finding, PA303, is now a warning
    assert "severity: {'PA303': 'warning', 'PA301': 'info'}" in lint("--show-settings").stdout
    levels = {
        f["code"]: f["severity"]
        for f in json.loads(lint("--format", "json", "app").stdout)["findings"]
    }
    assert levels == {"PA301": "info", "PA302": "warning", "PA303": "warning"}
    sarif = json.loads(lint("--format", "sarif", "app").stdout)["runs"][0]
    assert {r["ruleId"]: r["level"] for r in sarif["results"]} == {
        "PA301": "note",
        "PA302": "warning",
        "PA303": "warning",
    }
    described = {rule["id"]: rule for rule in sarif["tool"]["driver"]["rules"]}
    assert described["PA303"]["defaultConfiguration"] == {"level": "warning"}
    github = lint("--format", "github", "app").stdout.splitlines()
    assert {line.split(" ", 1)[0] + " " + line.rsplit("::", 1)[1][:5] for line in github} == {
        "::notice PA301",
        "::warning PA302",
        "::warning PA303",
    }
    gitlab = json.loads(lint("--format", "gitlab", "app").stdout)
    assert {i["check_name"]: i["severity"] for i in gitlab} == {
        "PA301": "info",
        "PA302": "minor",
        "PA303": "minor",
    }
    assert (
        lint("--format", "concise", "app").stderr
        == "Found 5 findings (4 warnings, 1 info) in 2 files.\n[*] 2 fixable with --fix.\n"
    )
    rows = {line.split()[0]: line.split()[2] for line in invoke("rules").stdout.splitlines()}
    assert (rows["PA301"], rows["PA303"], rows["PA302"]) == ("info", "warning", "warning")


def test_the_baseline_hides_findings_and_the_summary_says_how_many(project: Path) -> None:
    assert lint("--write-baseline", "base.json", ".").exit_code == 0
    result = lint("--baseline", "base.json", ".")
    assert result.exit_code == 0
    assert result.stderr == "All checks passed: 4 files, no findings (5 hidden by the baseline).\n"
    tidy = project / "clean" / "tidy.py"
    tidy.write_text(tidy.read_text(encoding="utf-8") + "\ntry:\n    pass\nexcept:\n    pass\n")
    result = lint("--baseline", "base.json", ".")
    assert result.exit_code == 1
    assert result.stderr == ("Found 2 warnings in 1 of 4 files (5 hidden by the baseline).\n")


# -- output -----------------------------------------------------------------------------------


HEADLINE = re.compile(r"^(\S+):(\d+):(\d+): (PA\d{3}) (?:\[\*\] )?(.+)$")
EXPECTED = (CLI_FIXTURES / "expected_findings.txt").read_text(encoding="utf-8").splitlines()


def headlines(text: str) -> list[str]:
    """`path:line:col: CODE` of every finding line in text or concise output."""
    found = (HEADLINE.match(line) for line in text.splitlines())
    return [f"{m[1]}:{m[2]}:{m[3]}: {m[4]}" for m in found if m]


def test_text_output_is_sorted_headlines_each_with_its_source_line_and_a_caret(
    project: Path,
) -> None:
    result = lint("--select", "PA301,PA303", ".")
    assert result.exit_code == 1
    assert headlines(result.stdout) == [line for line in EXPECTED if "PA302" not in line]
    assert result.stderr == (
        "Found 3 findings (1 warning, 2 info) in 2 of 4 files.\n[*] 2 fixable with --fix.\n"
    )
    lines = result.stdout.splitlines()
    for index, line in enumerate(lines):
        match = HEADLINE.match(line)
        if not match:
            continue
        path, number, column = match[1], int(match[2]), int(match[3])
        source = (project / path).read_text(encoding="utf-8").splitlines()[number - 1]
        snippet = lines[index + 1 : lines.index("", index)]
        shown = next(s for s in snippet if re.match(rf"^\s*{number} \| ", s))
        assert shown.split(" | ", 1)[1] == source
        carets = snippet[snippet.index(shown) + 1]
        assert carets.split(" | ", 1)[1].index("^") == column - 1


def test_concise_output_is_one_sorted_line_per_finding(project: Path) -> None:
    result = lint("--format", "concise", ".")
    assert headlines(result.stdout) == EXPECTED
    assert len(result.stdout.splitlines()) == len(EXPECTED)
    messages = [f["message"] for f in json.loads(lint("--format", "json", ".").stdout)["findings"]]
    assert [HEADLINE.match(line)[5] for line in result.stdout.splitlines()] == messages  # type: ignore[index]
    assert result.stderr == (
        "Found 5 findings (3 warnings, 2 info) in 2 of 4 files.\n[*] 2 fixable with --fix.\n"
    )


def test_quiet_prints_findings_only(project: Path) -> None:
    loud = lint("--format", "concise", ".")
    quiet = lint("-q", "--format", "concise", ".")
    assert quiet.exit_code == 1
    assert quiet.stdout == loud.stdout
    assert quiet.stderr == ""
    assert lint("-q", "clean").stderr == ""


def test_statistics_counts_findings_per_rule(project: Path) -> None:
    result = lint("--statistics", ".")
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["2", "PA302", "swallowed-broad-exception"],
        ["2", "PA303", "silenced-exception"],
        ["1", "PA301", "bare-except"],
    ]


def test_show_files_lists_what_would_be_checked(project: Path) -> None:
    result = lint("--show-files", ".")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "app/__init__.py",
        "app/service.py",
        "clean/__init__.py",
        "clean/tidy.py",
    ]


# -- subcommands, help, version ----------------------------------------------------------------


def test_rule_prints_one_document_by_code_or_name(project: Path) -> None:
    by_code = invoke("rule", "PA302")
    assert by_code.exit_code == 0
    assert by_code.stdout.startswith("# PA302 swallowed-broad-exception\n")
    assert "## Why is this bad?" in by_code.stdout
    assert invoke("rule", "swallowed-broad-exception").stdout == by_code.stdout
    assert invoke("rule", "pa302").stdout == by_code.stdout


def test_rule_with_an_unknown_code_is_exit_2(project: Path) -> None:
    result = invoke("rule", "PA999")
    assert result.exit_code == 2
    assert "PA999" in result.stderr


def test_rules_lists_every_code_and_whether_it_is_on(project: Path) -> None:
    result = invoke("rules")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert set(rows) == {info.code for info in (*ENGINE_CODES, *BUILTIN_RULES)}
    # The project's pyproject.toml selects PA3 only; PA001-PA003 are always on.
    assert {code for code, state in rows.items() if state == "on"} == {
        "PA001",
        "PA002",
        "PA003",
        *(rule.code for rule in BUILTIN_RULES if rule.code.startswith("PA3")),
    }
    assert "bare-except" in result.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_the_top_level_help_lists_the_subcommands(project: Path, flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    assert "pyarch-lint check --help" in result.stdout  # where the options are
    commands = result.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in commands.splitlines()]
    assert names == ["audit", "check", "init", "rule", "rules", "server"]
    assert "Exit status: 0 no finding at or above fail-on" in result.stdout


@pytest.mark.parametrize("args", [["check", "--help"], ["--no-llm", "--help"]])
def test_check_help_shows_its_options_examples_and_exit_codes(
    project: Path, args: list[str]
) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith(" check [OPTIONS] [PATHS]...")
    assert "Examples:" in result.stdout
    assert "pyarch-lint rule PA401" in result.stdout
    assert "Exit status: 0 no finding at or above fail-on (default: warning), 1" in result.stdout
    assert "--exit-zero" in result.stdout
    assert "--fail-on [info|warning|error]" in result.stdout


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(project: Path, flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    assert result.stdout == f"pyarch-lint, version {__version__}\n"


def test_the_readme_example_run_finds_the_bundled_examples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The README's first command, from the repository root, whose own configuration excludes
    # examples/ from linting the project: named explicitly, the folder is still checked.
    repo = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(repo)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = invoke("--exit-zero", "--no-cache", "--format", "json", "examples/")
    assert result.exit_code == 0, result.output
    paths = {f["path"] for f in json.loads(result.stdout)["findings"]}
    assert paths == {"examples/shop/orders.py"}


# -- real processes ---------------------------------------------------------------------------


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_installed_console_script(project: Path) -> None:
    script = BIN / "pyarch-lint"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}: the package is not installed")
    done = _run([str(script), "--no-llm", "--no-cache", "--format", "json", "."], project)
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [f"{f['path']}:{f['line']}:{f['column']}: {f['code']}" for f in findings] == EXPECTED
    clean = _run([str(script), "--no-llm", "--no-cache", "clean"], project)
    assert (clean.returncode, clean.stdout) == (0, "")
    missing = _run([str(script), "--no-llm", "missing.py"], project)
    assert missing.returncode == 2
    assert "missing.py" in missing.stderr


def test_python_dash_m(project: Path) -> None:
    command = [sys.executable, "-m", "pyarch_lint", "--no-llm", "--no-cache", "--format", "concise"]
    done = _run([*command, "."], project)
    assert done.returncode == 1, done.stderr
    assert headlines(done.stdout) == EXPECTED
    assert done.stderr == (
        "Found 5 findings (3 warnings, 2 info) in 2 of 4 files.\n[*] 2 fixable with --fix.\n"
    )


_PROBE = """
import sys
from pyarch_lint.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    status = done.code
heavy = [name for name in ("anthropic", "libcst.matchers") if name in sys.modules]
print(f"exit={status} heavy={heavy}", file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--no-llm", "--no-cache", "."],  # escalation off
        ["--no-cache", "."],  # no key in the environment: escalation is skipped
        ["--no-llm", "--no-cache", "--format", "sarif", "."],
    ],
)
def test_a_deterministic_run_never_imports_anthropic(project: Path, args: list[str]) -> None:
    # anthropic takes ~1.7 s to import and libcst.matchers more than the rest of libcst: a
    # deterministic run (pre-commit on one file) must not pay for either.
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=project,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr.splitlines()[-1] == "exit=1 heavy=[]", done.stderr


def _on_a_terminal(args: list[str], cwd: Path, env: dict[str, str], status: int = 1) -> str:
    """Run the CLI with stdout on a pseudo-terminal and return what it printed there."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pyarch_lint", *args],
        cwd=cwd,
        env=env,
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == status
    return b"".join(chunks).decode("utf-8")


def test_colour_only_on_a_terminal_and_never_with_no_color(project: Path) -> None:
    args = ["--no-llm", "--no-cache", "--format", "concise", "app"]
    coloured = _on_a_terminal(args, project, subprocess_env())
    assert ANSI.search(coloured)
    assert "PA301" in ANSI.sub("", coloured)
    plain = _on_a_terminal(args, project, subprocess_env(NO_COLOR="1"))
    assert not ANSI.search(plain)
    assert "app/service.py:9:5: PA301" in plain
    assert not ANSI.search(lint("--format", "concise", "app").stdout)  # not a terminal


def test_rules_fits_a_terminal_and_prints_whole_lines_to_a_pipe(project: Path) -> None:
    lines = _on_a_terminal(["rules"], project, subprocess_env(COLUMNS="72"), status=0).splitlines()
    piped = invoke("rules").stdout.splitlines()
    assert max(len(line) for line in piped) > 150  # the summaries, uncut
    assert len(lines) == len(piped)
    assert all(len(line) <= 72 for line in lines)
    assert any(line.endswith("\u2026") for line in lines)
    for line, whole in zip(lines, piped, strict=True):
        assert whole.startswith(line.removesuffix("\u2026"))

"""The tool explains itself (`--show-settings`, `--show-files`, `rules`) and lives beside ruff:
`# noqa: E501, PA401` serves both, and ruff keeps our codes with `lint.external = ["PA"]`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, invoke

from pyarch_lint.checks.registry import BUILTIN, BUILTIN_RULES

RUFF = Path(sys.executable).parent / "ruff"
LONG = "a long message " * 6
BLOCKING = f"""\
import time


async def handler() -> None:
    time.sleep(len("{LONG}"))  # noqa: E501, PA401
    time.sleep(len("{LONG}"))  # noqa: E501
    time.sleep(len("{LONG}"))  # noqa:PA401,E501
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return tmp_path


def test_show_settings_names_the_config_file_and_resolved_values(folder: Path) -> None:
    (folder / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nignore = ["PA2"]\n[tool.pyarch-lint.structure]\nmax-complexity = 7\n'
    )
    (folder / "sub").mkdir()
    os.chdir(folder / "sub")  # found by walking up
    result = invoke("--show-settings", "--model", "claude-x", "--llm-deadline", "12.5")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"config: {folder / 'pyproject.toml'}"
    assert f"root: {folder}" in lines
    assert "ignore: ('PA2',)" in lines
    assert "structure.max-complexity: 7" in lines
    assert "llm.model: 'claude-x'" in lines  # the command line on top of the file
    assert "llm.deadline: 12.5" in lines
    enabled = next(line for line in lines if line.startswith("enabled: "))
    assert "PA201" not in enabled
    assert "PA301" in enabled


def test_show_settings_without_a_config_says_so(folder: Path) -> None:
    result = invoke("--show-settings")
    assert result.stdout.splitlines()[0] == "config: defaults (no config file found)"


def test_llm_deadline_must_be_positive(folder: Path) -> None:
    result = invoke("--llm-deadline", "0", "--show-settings")
    assert result.exit_code == 2
    assert "--llm-deadline" in result.stderr


def test_show_files_applies_excludes_gitignore_and_changed_since(folder: Path) -> None:
    (folder / "pyproject.toml").write_text('[tool.pyarch-lint]\nextend-exclude = ["gen"]\n')
    for name in ("app/a.py", "app/b.pyi", "gen/g.py", "build/x.py", "ignored/i.py", "n.txt"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x = 1\n")
    (folder / ".gitignore").write_text("ignored/\n")
    result = invoke("--show-files", ".")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["app/a.py", "app/b.pyi"]
    named = invoke("--show-files", "--force-exclude", "gen/g.py", "app/a.py")
    assert named.stdout.splitlines() == ["app/a.py"]

    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "start"]):
        git(folder, *command)
    (folder / "app" / "a.py").write_text("x = 2\n")
    changed = invoke("--show-files", "--changed-since", "HEAD", ".")
    assert changed.stdout.splitlines() == ["app/a.py"]


def test_rules_lists_code_state_severity_family_and_name(folder: Path) -> None:
    (folder / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nignore = ["PA4"]\nextend-select = ["PA203"]\n'
    )
    result = invoke("rules")
    assert result.exit_code == 0
    rows = {line[:5]: line for line in result.stdout.splitlines()}
    assert set(rows) == set(BUILTIN.by_code)
    families = {
        "PA1": "structure",
        "PA2": "type hints",
        "PA3": "error handling",
        "PA4": "asyncio",
        "PA5": "architecture",
        "PA6": "operations",
    }
    for rule in BUILTIN_RULES:
        code, state, severity, *rest = rows[rule.code].split()
        expected = rule.code == "PA203" or (rule.default_enabled and code[:3] != "PA4")
        assert state == ("on" if expected else "off"), rows[rule.code]
        assert severity == rule.severity.label
        assert f" {families[code[:3]]} " in rows[rule.code]
        assert rule.name in rest
    assert rows["PA001"].split()[1:4] == ["on", "error", "engine"]


def test_noqa_with_ruff_codes_on_the_same_line(folder: Path) -> None:
    (folder / "app.py").write_text(BLOCKING)
    result = invoke("--no-llm", "--no-cache", "--format", "json", "--select", "PA401", ".")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["line"], f["code"]) for f in findings] == [(6, "PA401")]


@pytest.mark.parametrize("external", [True, False])
def test_ruff_keeps_our_codes_when_they_are_external(folder: Path, external: bool) -> None:
    """Without `external`, ruff's noqa checks call PA401 invalid and `--fix` deletes it
    (RUF102 in current ruff; RUF100 reported unknown codes in older releases)."""
    (folder / "app.py").write_text(BLOCKING)
    config = '[tool.ruff.lint]\nselect = ["E501", "RUF100", "RUF102"]\n'
    if external:
        config += 'external = ["PA"]\n'
    (folder / "pyproject.toml").write_text(config)
    done = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--output-format", "json", "app.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    reported = {(d["code"], d["location"]["row"]) for d in json.loads(done.stdout)}
    fixed = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--fix", "--diff", "app.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if external:
        assert reported == set()
        assert "PA401" not in fixed  # nothing to change
    else:
        assert {row for _, row in reported} == {5, 7}
        assert {code for code, _ in reported} <= {"RUF100", "RUF102"}
        assert "-    time.sleep" in fixed
        assert "# noqa: E501\n" in fixed  # ruff would drop our code from the shared comment

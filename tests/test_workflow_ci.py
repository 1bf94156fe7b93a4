"""The CI formats: GitHub annotations, SARIF for code scanning (paths relative to the repository
root under %SRCROOT%, from any folder), and GitLab's code quality report."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from conftest import SARIF_SCHEMA

from pyarch_lint.cli import main

BAD = """\
def load(path: str) -> str | None:
    try:
        return open(path).read()
    except:
        return None
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository: a project in `service/` (its own pyproject.toml) with `src/app.py`."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    project = tmp_path / "service"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.pyarch-lint]\nselect = ["PA3"]\n')
    (project / "src" / "app.py").write_text(BAD)
    return tmp_path


def lint(cwd: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, ["--no-llm", "--no-cache", "--jobs", "1", *args])


def sarif(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def uris(document: dict[str, Any]) -> set[str]:
    locations = [r["locations"][0]["physicalLocation"] for r in document["runs"][0]["results"]]
    assert {loc["artifactLocation"]["uriBaseId"] for loc in locations} == {"%SRCROOT%"}
    return {loc["artifactLocation"]["uri"] for loc in locations}


@pytest.mark.parametrize("start", [".", "service", "service/src"])
def test_sarif_paths_are_relative_to_the_repository_root_from_any_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    result = lint(repo / start, monkeypatch, "--format", "sarif", ".")
    assert result.exit_code == 1
    assert uris(sarif(result)) == {"service/src/app.py"}


def test_sarif_without_git_is_relative_to_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint]\n")
    (tmp_path / "pkg" / "odd name.py").write_text(BAD)
    result = lint(tmp_path / "pkg", monkeypatch, "--format", "sarif", ".")
    assert uris(sarif(result)) == {"pkg/odd%20name.py"}  # a URI: the space is escaped


def test_sarif_is_valid_against_the_official_schema(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = sarif(lint(repo / "service", monkeypatch, "--format", "sarif", "."))
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    run = document["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]


def test_github_annotations_name_files_from_the_repository_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = lint(repo / "service", monkeypatch, "--format", "github", ".")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::warning file=service/src/app.py,line=4,col=5,endLine=4,endColumn=12,"
        "title=PA301 bare-except::PA301 Bare `except:` also catches KeyboardInterrupt and "
        "SystemExit; name the exceptions you expect",
        "::warning file=service/src/app.py,line=4,col=5,endLine=4,endColumn=12,"
        "title=PA302 swallowed-broad-exception::PA302 Handler catches everything and swallows "
        "it: re-raise, log it (`logger.exception(...)`), or catch the specific exceptions you "
        "expect",
    ]
    assert result.stderr == ""  # nothing else for the runner to parse


def test_github_annotations_escape_what_would_end_a_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a,b:c%.py").write_text(BAD)
    lines = lint(tmp_path, monkeypatch, "--format", "github", "--select", "PA301", ".").stdout
    assert lines.startswith("::warning file=a%2Cb%3Ac%25.py,line=4,")


def gitlab(result: Result) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = json.loads(result.stdout)
    return issues


def test_gitlab_code_quality_report(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = lint(repo / "service" / "src", monkeypatch, "--format", "gitlab", ".")
    assert result.exit_code == 1
    issues = gitlab(result)
    assert [(i["check_name"], i["severity"]) for i in issues] == [
        ("PA301", "minor"),
        ("PA302", "minor"),
    ]
    for issue in issues:
        assert issue["location"] == {"path": "service/src/app.py", "lines": {"begin": 4, "end": 4}}
        assert issue["description"].startswith(issue["check_name"] + " ")
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
    assert len({i["fingerprint"] for i in issues}) == 2


def test_gitlab_fingerprints_survive_moved_code_and_tell_copies_apart(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = repo / "service" / "src" / "app.py"
    before = gitlab(lint(repo, monkeypatch, "--format", "gitlab", "--select", "PA301", "."))
    app.write_text('"""Loading."""\n\nimport os\n\n' + BAD)
    after = gitlab(lint(repo, monkeypatch, "--format", "gitlab", "--select", "PA301", "."))
    assert after[0]["location"]["lines"]["begin"] == 8
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]
    app.write_text(BAD + "    try:\n        pass\n    except:\n        pass\n")
    copies = gitlab(lint(repo, monkeypatch, "--format", "gitlab", "--select", "PA301", "."))
    assert len(copies) == 2
    assert len({i["fingerprint"] for i in copies}) == 2


def test_gitlab_report_with_no_findings_is_an_empty_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    result = lint(tmp_path, monkeypatch, "--format", "gitlab", ".")
    assert result.exit_code == 0
    assert gitlab(result) == []

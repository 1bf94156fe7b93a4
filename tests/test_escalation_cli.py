"""The bar of issue 4, end to end: the CLI, the real SDK, a Messages API server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import llm_env
from llm_server import MessagesServer, critique, error, item, overloaded

from pyarch_lint.cli import main

TREE = Path(__file__).parent / "fixtures" / "escalation" / "tree"
KEY = "sk-ant-api03-CLITESTKEY-never-to-be-seen-000000000000"
SECRETS = (
    "AKIAIOSFODNN7EXAMPLE",
    "Tr0ub4dor-and-3",
    "ghp_FAKEfakeFAKEfake0123456789abcdefABCD",
    "correct-horse-battery-staple",
    "MIIEowIBAAKCAQEAfakefake",
)
PYPROJECT = '[project]\nname = "shop"\n\n[tool.pyarch-lint.llm]\ntimeout = 10\nconcurrency = 1\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One clean file, one flagged file, one flagged file holding fake credentials."""
    for name in ("clean.py", "loader.py", "credentials.py"):
        shutil.copy(TREE / name, tmp_path / name)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(server: MessagesServer, *args: str, key: str | None = KEY) -> Result:
    env = llm_env(server, key)
    return CliRunner().invoke(main, ["--jobs", "1", *args], env=env, catch_exceptions=False)


def critiques_of(result: Result) -> dict[str, dict[str, object]]:
    return {c["path"]: c for c in json.loads(result.stdout)["critiques"]}


def test_only_the_flagged_files_are_sent_and_never_their_secrets(server, project):
    result = lint(server, "--format", "json", ".")

    assert result.exit_code == 1
    sent = sorted(r.user_text.split("\n")[0] for r in server.requests)
    assert sent == ['Path: "credentials.py"', 'Path: "loader.py"']
    for request in server.requests:
        raw = request.raw.decode()
        assert "CLEAN-FILE-MARKER" not in raw
        assert KEY not in raw
        for secret in SECRETS:
            assert secret not in raw
    report = json.loads(result.stdout)
    assert sorted(critiques_of(result)) == ["credentials.py", "loader.py"]
    assert report["summary"]["escalated"] == 2
    assert report["summary"]["flagged"] == 2
    assert "secrets redacted" in result.stderr
    assert KEY not in result.stdout + result.stderr


def test_critiques_appear_in_text_and_explain_output(server, project):
    server.default = critique(
        summary="Settings are loaded and every failure is hidden.",
        items=[item(10, principle="Errors should never pass silently")],
    )
    text = lint(server, "--no-cache", ".")
    assert text.exit_code == 1
    assert "loader.py: architecture review by claude-sonnet-5-5" in text.stdout
    assert "Settings are loaded and every failure is hidden." in text.stdout

    explained = lint(server, "--no-cache", "--explain", ".")
    assert explained.exit_code == 1
    loader = explained.stdout[explained.stdout.index("File: loader.py") :]
    assert "Why it matters" in loader  # the advice, or where it was given above
    assert "Architectural review (claude-sonnet-5-5)" in loader
    assert "line 10 (warning): Errors should never pass silently" in loader


def test_a_second_run_sends_no_request(server, project):
    first = lint(server, "--format", "json", ".")
    second = lint(server, "--format", "json", ".")

    assert len(server.requests) == 2
    assert {p: c["cached"] for p, c in critiques_of(first).items()} == {
        "credentials.py": False,
        "loader.py": False,
    }
    assert {p: c["cached"] for p, c in critiques_of(second).items()} == {
        "credentials.py": True,
        "loader.py": True,
    }
    assert "0 sent, 2 cached" in second.stderr
    for entry in (project / ".pyarch_lint_cache" / "critiques").glob("*.json"):
        assert KEY not in entry.read_text()


def test_529_twice_then_success_gives_a_critique(server, project):
    server.script(overloaded(), overloaded())
    result = lint(server, "--format", "json", "loader.py")
    assert result.exit_code == 1
    assert list(critiques_of(result)) == ["loader.py"]
    assert len(server.requests) == 3


def test_401_gives_one_clear_line_and_the_usual_findings_and_exit_code(server, project):
    deterministic = lint(server, "--no-llm", "--format", "json", ".")
    server.script(error(401, "authentication_error"))
    result = lint(server, "--format", "json", ".")

    assert result.exit_code == deterministic.exit_code == 1
    report = json.loads(result.stdout)
    assert report["findings"] == json.loads(deterministic.stdout)["findings"]
    assert report["critiques"] == []
    refused = [line for line in result.stderr.splitlines() if "refused the key" in line]
    assert refused == [
        "llm: escalation stopped: the API refused the key (HTTP 401 authentication_error); "
        "check ANTHROPIC_API_KEY"
    ]
    assert len(server.requests) == 1
    assert KEY not in result.stderr


@pytest.mark.parametrize(
    "answer",
    [
        critique(items=[item(0), item(500, 400), item(3, severity="fatal")]),
        critique(tool_input="garbage"),
        critique(tool_input={"summary": 3, "items": {}}),
    ],
    ids=["out-of-range", "not-an-object", "wrong-types"],
)
def test_a_malformed_or_out_of_range_answer_never_crashes_the_run(server, project, answer):
    server.default = answer
    result = lint(server, "--format", "json", ".")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    reviewed = {c["path"]: c["items"] for c in report["critiques"]}
    skipped = {n["path"] for n in report["not_reviewed"]}
    assert set(reviewed) | skipped == {"credentials.py", "loader.py"}
    assert all(items == [] for items in reviewed.values())


def test_no_key_gives_a_deterministic_run_and_one_line_why(server, project):
    deterministic = lint(server, "--no-llm", ".")
    result = lint(server, ".", key=None)

    assert result.exit_code == deterministic.exit_code == 1
    assert result.stdout == deterministic.stdout
    llm_lines = [line for line in result.stderr.splitlines() if line.startswith("llm")]
    assert llm_lines == ["llm: escalation skipped: ANTHROPIC_API_KEY is not set"]
    assert server.requests == []


def test_llm_required_turns_no_key_into_exit_2(server, project):
    result = lint(server, "--llm-required", ".", key=None)
    assert result.exit_code == 2
    assert "--llm-required: ANTHROPIC_API_KEY is not set" in result.stderr


def test_llm_required_turns_a_file_not_reviewed_into_exit_2(server, project):
    server.default = error(500, "api_error", retry_after=0.01)
    result = lint(server, "--llm-required", "loader.py")
    assert result.exit_code == 2
    assert "--llm-required: 1 flagged file not reviewed (api error: 1)" in result.stderr


def test_dry_run_sends_nothing_and_writes_nothing(server, project):
    result = lint(server, "--llm-dry-run", "--no-cache", ".", key=None)
    assert result.exit_code == 1
    assert server.requests == []
    assert "llm dry run: would send credentials.py (~" in result.stderr
    assert "llm dry run: would send loader.py (~" in result.stderr
    assert not (project / ".pyarch_lint_cache" / "critiques").exists()


def test_instructions_in_a_file_change_no_finding_and_no_exit_code(server, project):
    shutil.copy(TREE / "injection.py", project / "injection.py")
    deterministic = lint(server, "--no-llm", "--format", "json", "injection.py")
    # Whatever the model says, it cannot remove a finding or change the exit status.
    server.default = critique(summary="This file is perfect. The build passes.", items=[])
    result = lint(server, "--format", "json", "injection.py")

    assert result.exit_code == deterministic.exit_code == 1
    report = json.loads(result.stdout)
    assert report["findings"] == json.loads(deterministic.stdout)["findings"]
    assert report["findings"]  # the bare except is still reported
    text = server.requests[0].user_text
    assert text.index("Ignore all previous instructions") > text.index("<<<UNTRUSTED-SOURCE-")


def test_critiques_reach_the_github_format_as_annotations_of_their_severity(server, project):
    server.default = critique(items=[item(10, problem="line one\n::error::forged")])
    result = lint(server, "--no-cache", "--format", "github", "loader.py")
    lines = result.stdout.splitlines()
    (warning,) = [line for line in lines if "Architecture" in line]
    assert warning.startswith("::warning file=loader.py,line=10,endLine=10")
    assert not any(line.startswith("::error::forged") for line in lines)

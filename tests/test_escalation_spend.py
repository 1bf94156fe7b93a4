"""What a run spends, end to end through the CLI and the real SDK against the loopback server:
the budget a repository cannot raise, the cached prefix, the small per-file message, empty
answers, paths from the project root, files that do not parse."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from llm_server import Answer, MessagesServer, critique, item, usage

from pyarch_lint.cli import main
from pyarch_lint.config import LlmSettings, settings_from_toml

KEY = "sk-ant-api03-SPENDTESTKEY-never-to-be-seen-0000000000"
HOSTILE = """\
[project]
name = "greedy"

[tool.pyarch-lint.llm]
max-files = 100000
max-run-tokens = 1000000000
max-output-tokens = 128000
concurrency = 64
deadline = 100000.0
timeout = 10
"""


@pytest.fixture
def server():
    with MessagesServer() as running:
        yield running


def module(index: int, serious: bool = False) -> str:
    """About 40 lines with a bare except (a warning); a serious one also blocks its event loop
    (an error, which ranks it first)."""
    lines = [f'"""Module {index}: loads and saves the records of one shard."""', "", "import json"]
    lines += ["import time", "", "", "def load(path):", "    try:", "        with open(path) as f:"]
    lines += ["            return json.load(f)", "    except:", "        return None"]
    if serious:
        lines += ["", "", "async def pause():", "    time.sleep(1)"]
    while len(lines) < 38:
        n = len(lines)
        lines += ["", "", f"def helper_{n}(value):", f"    return value * {n} + {index}"]
    return "\n".join(lines) + "\n"


def write_project(root: Path, count: int, pyproject: str = HOSTILE) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject)
    for index in range(count):
        (root / f"mod_{index:03}.py").write_text(module(index, serious=index % 10 == 9))
    return root


def lint(server: MessagesServer, *args: str, env: dict[str, str] | None = None) -> Result:
    variables = {"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": KEY}
    variables.update(dict.fromkeys(("ANTHROPIC_AUTH_TOKEN", "PYARCH_LINT_MAX_RUN_TOKENS")))
    variables.update(env or {})
    return CliRunner().invoke(main, ["--jobs", "1", *args], env=variables, catch_exceptions=False)


def estimated(server: MessagesServer) -> int:
    """The tokens the received requests may spend: 3 characters a token of each request body
    as it arrived (JSON and all), plus its output limit."""
    return sum(-(-len(r.raw) // 3) + r.body["max_tokens"] for r in server.requests)


def numbered_source(text: str) -> str:
    start = text.index("<<<UNTRUSTED-SOURCE-")
    fence = text[start + 3 : text.index("\n", start)]
    return text[text.index("\n", start) + 1 : text.rindex(fence)]


# --- the budget ---------------------------------------------------------------------------------


def test_a_repository_config_cannot_raise_what_a_run_spends(server, tmp_path, monkeypatch):
    monkeypatch.chdir(write_project(tmp_path / "greedy", 200))
    result = lint(server, "--no-cache", "--format", "json", ".")

    assert result.exit_code == 1
    assert estimated(server) <= 250_000
    assert len(server.requests) == LlmSettings().max_files == 20
    assert {r.body["max_tokens"] for r in server.requests} == {LlmSettings().max_output_tokens}
    assert server.max_in_flight <= LlmSettings().concurrency
    skipped = json.loads(result.stdout)["not_reviewed"]
    assert len(skipped) == 180
    assert "budget: ~" in result.stderr
    assert "of 250,000 tokens" in result.stderr


def test_past_the_budget_files_are_not_reviewed_most_serious_first(server, tmp_path, monkeypatch):
    monkeypatch.chdir(write_project(tmp_path / "many", 60))
    result = lint(server, "--no-cache", "--format", "json", "--llm-max-files", "60", ".")

    assert estimated(server) <= 250_000
    report = json.loads(result.stdout)
    budget = [n for n in report["not_reviewed"] if n["reason"].startswith("budget:")]
    assert budget  # 60 requests of ~5,000 tokens each do not fit in 250,000
    assert len(server.requests) + len(budget) == 60
    sent = {r.user_text.split('"')[1] for r in server.requests}
    serious = {f"mod_{n:03}.py" for n in range(9, 60, 10)}
    assert serious <= sent
    assert f"not reviewed (budget: {len(budget)})" in result.stderr
    assert "llm.max-run-tokens = 250,000 reached" in budget[0]["reason"]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_command_line_or_the_environment_raises_the_ceiling(server, tmp_path, monkeypatch, how):
    monkeypatch.chdir(write_project(tmp_path / "many", 60))
    args = ["--no-cache", "--format", "json", "--llm-max-files", "60", "--llm-concurrency", "8"]
    env = {}
    if how == "option":
        args += ["--llm-max-run-tokens", "2000000"]
    else:
        env["PYARCH_LINT_MAX_RUN_TOKENS"] = "2000000"
    result = lint(server, *args, ".", env=env)

    assert len(server.requests) == 60
    assert json.loads(result.stdout)["not_reviewed"] == []
    assert "of 2,000,000 tokens" in result.stderr


def test_a_config_file_lowers_spending_settings_but_never_raises_them():
    raised = settings_from_toml("[llm]\n" + HOSTILE.split("[tool.pyarch-lint.llm]\n")[1]).llm
    defaults = LlmSettings()
    for name in LlmSettings.SPENDING:
        assert getattr(raised, name) == getattr(defaults, name), name
    lowered = settings_from_toml(
        "[llm]\nmax-files = 3\nmax-run-tokens = 1000\nconcurrency = 1\ndeadline = 5.0\n"
        "max-output-tokens = 512\n"
    ).llm
    assert (lowered.max_files, lowered.max_run_tokens, lowered.concurrency) == (3, 1000, 1)
    assert (lowered.deadline, lowered.max_output_tokens) == (5.0, 512)


def test_show_settings_shows_the_capped_values(server, tmp_path, monkeypatch):
    monkeypatch.chdir(write_project(tmp_path / "greedy", 0))
    shown = lint(server, "--show-settings").stdout
    assert "llm.max-files: 20" in shown
    assert "llm.max-run-tokens: 250000" in shown
    raised = lint(server, "--show-settings", "--llm-max-files", "500").stdout
    assert "llm.max-files: 500" in raised


# --- tokens spent on the code -------------------------------------------------------------------


def test_the_per_file_message_is_little_more_than_the_numbered_source(
    server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the working folder is restored after the test
    project = write_project(tmp_path / "ten", 10, '[project]\nname = "ten"\n')
    os.chdir(project)
    try:
        result = lint(server, "--no-cache", ".")
    finally:
        os.chdir(tmp_path)
    assert "10 sent" in result.stderr
    assert len(server.requests) == 10
    for request in server.requests:
        (message,) = request.body["messages"]
        text = "".join(block["text"] for block in message["content"])
        source = numbered_source(text)
        assert source.count("\n") >= 38
        assert len(text) - len(source) <= 2000
        assert "How to fix" not in text
        # Findings below llm.min-severity by position only; those above with their message.
        assert "PA204 untyped-module (info) at 7:1\n" in text
        assert '\nPA301 bare-except (warning)\n  11:5 "Bare `except:`' in text
    # The shared prefix (tools, then the system prompt with the rule catalogue) is the same for
    # every file and long enough to be cached: over 2,048 tokens even at 4 characters a token.
    prefixes = {json.dumps(r.body["tools"]) + json.dumps(r.body["system"]) for r in server.requests}
    (prefix,) = prefixes
    assert len(prefix) // 4 >= 2048
    assert '"cache_control": {"type": "ephemeral"}' in prefix
    assert "PA404 nested-event-loop" in prefix


def test_the_first_request_goes_alone_and_the_rest_once_it_is_answered(server, tmp_path):
    seen: list[int] = []

    def answer(_body: dict[str, object]) -> Answer:
        seen.append(server.answered)
        reply = critique(items=[item(10)], tokens=usage(500, 100, cache_creation=2700))
        return Answer(reply.status, reply.body, delay=0.2)

    server.default = answer
    project = write_project(tmp_path / "four", 4, '[project]\nname = "four"\n')
    result = lint(server, "--no-cache", "--llm-concurrency", "4", str(project))

    assert seen[0] == 0
    assert all(count >= 1 for count in seen[1:])
    assert len(seen) == 4
    assert server.max_in_flight <= 3  # the three others together at most, after the first
    assert "10,800 cache-write" in result.stderr


def test_paths_are_relative_to_the_project_root_wherever_pyarch_lint_runs(
    server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # the working folder is restored after the test
    project = write_project(tmp_path / "proj", 0, '[project]\nname = "proj"\n')
    (project / "pkg").mkdir()
    (project / "pkg" / "mod.py").write_text(module(1))
    os.chdir(project / "pkg")
    try:
        first = lint(server, ".")
        os.chdir(project)
        second = lint(server, "pkg")
        third = lint(server, str(project / "pkg" / "mod.py"))
    finally:
        os.chdir(tmp_path)

    assert len(server.requests) == 1  # the same key from the subfolder, the root, a full path
    assert "1 sent, 0 cached" in first.stderr
    assert "0 sent, 1 cached" in second.stderr
    assert "0 sent, 1 cached" in third.stderr
    raw = server.requests[0].raw.decode()
    assert server.requests[0].user_text.startswith('Path: "pkg/mod.py"\n')
    assert str(tmp_path) not in raw


def test_a_file_that_does_not_parse_is_not_sent(server, tmp_path, monkeypatch):
    project = write_project(tmp_path / "broken", 1, '[project]\nname = "broken"\n')
    (project / "broken.py").write_text("def broken(:\n    password = 'hunter2hunter2'\n")
    monkeypatch.chdir(project)
    result = lint(server, "--no-cache", "--format", "json", ".")

    assert len(server.requests) == 1
    assert "hunter2hunter2" not in server.requests[0].raw.decode()
    (skipped,) = json.loads(result.stdout)["not_reviewed"]
    assert skipped["path"] == "broken.py"
    assert skipped["reason"].startswith("syntax error: the file does not parse (PA001)")


# --- answers that say nothing -------------------------------------------------------------------


def test_an_answer_whose_items_are_all_out_of_range_is_asked_again_then_not_reviewed(
    server, tmp_path, monkeypatch
):
    monkeypatch.chdir(write_project(tmp_path / "one", 1, '[project]\nname = "one"\n'))
    server.default = critique(
        summary="A loader that hides its failures.", items=[item(0), item(500, 400), item(999)]
    )
    result = lint(server, "--llm-required", "--format", "json", ".")

    assert result.exit_code == 2
    assert len(server.requests) == 2
    assert "Your previous answer could not be used (empty answer: none of its 3 items" in (
        server.requests[1].user_text
    )
    report = json.loads(result.stdout)
    assert report["critiques"] == []
    (skipped,) = report["not_reviewed"]
    assert skipped["reason"].startswith("invalid answer: empty answer")
    assert "--llm-required: 1 flagged file not reviewed (invalid answer: 1)" in result.stderr

    again = lint(server, "--llm-required", "--format", "json", ".")  # nothing was cached
    assert again.exit_code == 2
    assert len(server.requests) == 4


@pytest.mark.parametrize("summary", ["", "ok", "LGTM."])
def test_no_items_and_no_real_summary_is_no_review(server, tmp_path, monkeypatch, summary):
    monkeypatch.chdir(write_project(tmp_path / "one", 1, '[project]\nname = "one"\n'))
    server.default = critique(tool_input={"summary": summary, "items": []})
    result = lint(server, "--no-cache", "--format", "json", ".")
    assert json.loads(result.stdout)["critiques"] == []
    assert len(server.requests) == 2


def test_a_sound_file_with_a_summary_and_no_items_is_a_review(server, tmp_path, monkeypatch):
    monkeypatch.chdir(write_project(tmp_path / "one", 1, '[project]\nname = "one"\n'))
    server.default = critique(summary="The loader is small and its one flaw is minor.", items=[])
    result = lint(server, "--no-cache", "--llm-required", "--format", "json", ".")
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["critiques"]) == 1
    assert len(server.requests) == 1

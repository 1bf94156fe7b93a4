"""The architect's full answer, delivered where people look: a critique with trade-offs,
testing and monitoring shows them in JSON, text, `--explain`, SARIF and GitHub's step summary.
End to end: the CLI, the real SDK, the Messages API server on 127.0.0.1.

The model's text is data. It is rendered by GitHub's own Markdown parser (cmark-gfm) with raw
HTML allowed, to show that nothing in it becomes HTML, a link, or leaves its code block."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path
from typing import Any

import cmarkgfm
import jsonschema
import pytest
from click.testing import CliRunner, Result
from cmarkgfm.cmark import Options
from conftest import SARIF_SCHEMA, llm_env
from llm_server import MessagesServer, critique, item

from pyarch_lint.cli import main

TREE = Path(__file__).parent / "fixtures" / "escalation" / "tree"
KEY = "sk-ant-api03-ANSWERTESTKEY-never-to-be-seen-000000000000"

# An answer as a senior reviewer writes it, with Markdown and HTML of its own in every field.
EXAMPLE = (
    "def load(path: Path) -> Settings:\n"
    '    """Raise on what cannot be read: ```not the end``` of anything."""\n'
    "    return Settings.model_validate_json(path.read_text())\n"
    "````\n"
    "<script>alert('example')</script>"
)
ANSWER = {
    "summary": "Loads settings and hides every failure. <img src=x onerror=alert(1)>",
    "items": [
        item(
            6,
            11,
            severity="error",
            principle="Errors should never pass silently",
            problem="The bare except returns None for a missing file and for bad JSON alike.",
            suggestion="Let OSError and ValueError propagate; **catch** them at the edge.",
            example=EXAMPLE,
        ),
        item(10, principle="Explicit is better than implicit", problem="`None` means two things."),
    ],
    "trade_offs": [
        "Callers must handle the errors: more code at the edge, none hidden.",
        "[a link](https://evil.example/phish) and <b>bold</b>",
    ],
    "testing": ["Test load() with a missing file, a bad file and a good one (tmp_path)."],
    "monitoring": ["Log settings errors at startup; alert when the service fails to start."],
}
SAFE_FRAGMENT = "the service fails to start"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(TREE / "loader.py", tmp_path / "loader.py")
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint.llm]\ntimeout = 10\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def answered(server: MessagesServer) -> MessagesServer:
    server.default = critique(**ANSWER)
    return server


def lint(server: MessagesServer, *args: str, **env: str | None) -> Result:
    environment = {**llm_env(server, KEY), "GITHUB_STEP_SUMMARY": None, **env}
    result = CliRunner().invoke(
        main, ["--jobs", "1", *args, "loader.py"], env=environment, catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    return result


def test_json_carries_the_file_level_lists(answered: MessagesServer, project: Path) -> None:
    (review,) = json.loads(lint(answered, "--format", "json").stdout)["critiques"]
    assert review["trade_offs"] == ANSWER["trade_offs"]
    assert review["testing"] == ANSWER["testing"]
    assert review["monitoring"] == ANSWER["monitoring"]
    assert [i["example"] for i in review["items"]] == [EXAMPLE, None]
    cached = json.loads(lint(answered, "--format", "json").stdout)["critiques"][0]
    assert cached["cached"] is True
    assert {k: v for k, v in cached.items() if k != "cached"} == {
        k: v for k, v in review.items() if k != "cached"
    }
    assert len(answered.requests) == 1


def test_text_and_explain_show_them(answered: MessagesServer, project: Path) -> None:
    text = lint(answered, "--no-cache").stdout
    assert f"  trade-off: {ANSWER['trade_offs'][0]}" in text
    assert f"  testing: {ANSWER['testing'][0]}" in text
    assert f"  monitoring: {ANSWER['monitoring'][0]}" in text

    explained = lint(answered, "--no-cache", "--explain").stdout
    review = explained[explained.index("Architectural review") :]
    for title, points in (
        ("Trade-offs", ANSWER["trade_offs"]),
        ("Testing", ANSWER["testing"]),
        ("Monitoring", ANSWER["monitoring"]),
    ):
        section = review[review.index(f"  {title}:") :]
        assert " ".join(section.split()).startswith(f"{title}: - {points[0]}")
    assert "        def load(path: Path) -> Settings:" in review  # the example, as code


def test_sarif_has_a_result_for_each_item_and_one_for_the_file(
    answered: MessagesServer, project: Path
) -> None:
    document = json.loads(lint(answered, "--no-cache", "--format", "sarif").stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    [run] = document["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        by_rule.setdefault(result["ruleId"], []).append(result)

    first, second = by_rule["architecture-critique"]
    assert (first["level"], second["level"]) == ("error", "warning")
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 6, "endLine": 11}
    markdown = first["message"]["markdown"]
    assert "**Suggestion:**" in markdown
    assert _fenced_code(markdown) == [EXAMPLE]
    assert "Settings.model_validate_json" in first["message"]["text"]

    (review,) = by_rule["architecture-review"]
    assert review["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    for title in ("Trade-offs", "Testing", "Monitoring"):
        assert f"**{title}**" in review["message"]["markdown"]
        assert f"{title}:" in review["message"]["text"]
    assert SAFE_FRAGMENT in review["message"]["text"]
    for result in (first, review):
        _assert_inert(
            cmarkgfm.github_flavored_markdown_to_html(
                result["message"]["markdown"], options=Options.CMARK_OPT_UNSAFE
            )
        )


def test_the_github_step_summary_gets_the_critique_as_markdown(
    answered: MessagesServer, project: Path
) -> None:
    summary = project / "summary.md"
    summary.write_text("Earlier step's summary.\n", encoding="utf-8")
    env = {
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SHA": "0123abcd",
    }
    result = lint(answered, "--no-cache", "--format", "github", **env)

    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("Earlier step's summary.\n")  # appended, as GitHub asks
    blob = "https://github.com/acme/shop/blob/0123abcd/loader.py"
    assert f"### [loader\\.py]({blob})" in markdown
    assert f"[lines 6-11]({blob}#L6-L11)" in markdown
    assert f"[line 10]({blob}#L10)" in markdown
    for title in ("Trade-offs", "Testing", "Monitoring"):
        assert f"**{title}**" in markdown
    assert _fenced_code(markdown) == [EXAMPLE]
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    _assert_inert(html)
    links = re.findall(r'<a href="([^"]*)"', html)
    assert links == [blob, f"{blob}#L6-L11", f"{blob}#L10"]  # the model's link is text
    assert SAFE_FRAGMENT in html

    # Annotations: the critique's items before the warnings, each at its own severity.
    levels = [line.split(" ", 1)[0] for line in result.stdout.splitlines()]
    architecture = [
        n for n, line in enumerate(result.stdout.splitlines()) if "Architecture" in line
    ]
    assert [levels[n] for n in architecture] == ["::error", "::warning"]
    assert levels[: architecture[-1] + 1].count("::notice") == 0


def test_without_the_workflow_variables_the_links_are_relative(
    answered: MessagesServer, project: Path
) -> None:
    summary = project / "summary.md"
    lint(answered, "--no-cache", "--format", "github", GITHUB_STEP_SUMMARY=str(summary))
    markdown = summary.read_text(encoding="utf-8")
    assert "### [loader\\.py](loader.py)" in markdown
    assert "[lines 6-11](loader.py#L6-L11)" in markdown


def test_an_unwritable_step_summary_is_a_warning(answered: MessagesServer, project: Path) -> None:
    missing = project / "no-such-folder" / "summary.md"
    result = lint(answered, "--no-cache", "--format", "github", GITHUB_STEP_SUMMARY=str(missing))
    assert "pyarch-lint: warning: step summary not written: " in result.stderr
    assert "::error" in result.stdout  # the annotations are printed all the same


def _fenced_code(markdown: str) -> list[str]:
    """What GitHub's parser sees inside code blocks."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    blocks = re.findall(r'<pre lang="python"><code>(.*?)</code></pre>', html, re.DOTALL)
    return [unescape(block).rstrip("\n") for block in blocks]


def _assert_inert(html: str) -> None:
    outside_code = re.sub(r"<pre.*?</pre>", "", html, flags=re.DOTALL)
    for tag in ("<script", "<img", "<b>", "<strong>catch", 'href="https://evil'):
        assert tag not in outside_code, tag

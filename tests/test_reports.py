"""Reports as their consumers read them: the JSON contract of DESIGN.md, SARIF 2.1.0 validated
against the official schema, and GitHub workflow commands; and the fast paths of rendering
(written by hand or skipped when there is nothing to do) give exactly what the plain way would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click
import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from conftest import SARIF_SCHEMA, excerpts

from pyarch_lint.baseline import Key, dumps
from pyarch_lint.catalogue import load_catalogue
from pyarch_lint.checks.registry import BUILTIN
from pyarch_lint.cli import main
from pyarch_lint.files import escape_surrogates
from pyarch_lint.findings import Critique, CritiqueItem, Finding, NotReviewed, Severity
from pyarch_lint.report import Outcome, inert_lines, one_line, sanitize
from pyarch_lint.report.gitlab import render as render_gitlab
from pyarch_lint.report.json_format import render as render_json
from pyarch_lint.report.sarif import render as render_sarif
from pyarch_lint.report.text import render as render_text
from pyarch_lint.report.text import summary_line

PROJECT = Path(__file__).parent / "fixtures" / "cli" / "project"
FINDING_FIELDS = {
    "path": str,
    "line": int,
    "column": int,
    "end_line": int,
    "end_column": int,
    "code": str,
    "name": str,
    "severity": str,
    "message": str,
    "source": str,
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    (root / "broken.py").write_text(")\n", encoding="utf-8")  # PA001 at 1:1
    monkeypatch.chdir(root)
    return root


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["--no-llm", "--no-cache", "--jobs", "1", *args])
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def as_json(*args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run("--format", "json", *args))
    return document


# -- JSON -------------------------------------------------------------------------------------


def test_json_is_one_object_with_the_contract_fields(project: Path) -> None:
    document = as_json(".")
    assert {"version", "findings", "critiques", "summary"} <= set(document)
    assert document["version"] == 1
    assert document["critiques"] == []
    assert document["summary"] == {"files": 5, "flagged": 2, "escalated": 0, "findings": 6}
    for finding in document["findings"]:
        assert set(FINDING_FIELDS) <= set(finding)
        for field, kind in FINDING_FIELDS.items():
            assert type(finding[field]) is kind, (field, finding)
        assert finding["severity"] in ("error", "warning", "info")
        assert finding["source"] == "rule"
        assert finding["line"] >= 1
        assert finding["column"] >= 1
        assert (finding["end_line"], finding["end_column"]) >= (finding["line"], finding["column"])


def test_json_findings_are_exact_and_one_based(project: Path) -> None:
    findings = as_json(".")["findings"]
    assert findings[0] == {
        **findings[0],
        "path": "app/__init__.py",
        "line": 11,
        "column": 1,
        "end_line": 11,
        "code": "PA303",
        "name": "silenced-exception",
    }
    broken = next(f for f in findings if f["path"] == "broken.py")
    assert (broken["line"], broken["column"], broken["code"]) == (1, 1, "PA001")
    assert broken["name"] == "syntax-error"
    assert broken["severity"] == "error"
    bare = next(f for f in findings if f["code"] == "PA301")
    # `    except:` - the handler starts at the fifth character and `except:` ends before the 12th.
    assert (bare["path"], bare["line"], bare["column"]) == ("app/service.py", 9, 5)
    assert (bare["end_line"], bare["end_column"]) == (9, 12)
    assert bare["name"] == "bare-except"
    assert bare["message"].startswith("Bare `except:`")


def test_json_paths_are_relative_to_the_working_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    absolute = str(project / "app" / "service.py")
    assert {f["path"] for f in as_json(absolute)["findings"]} == {"app/service.py"}
    monkeypatch.chdir(project / "app")
    assert {f["path"] for f in as_json(".")["findings"]} == {"__init__.py", "service.py"}
    assert {f["path"] for f in as_json("../app/service.py")["findings"]} == {"../app/service.py"}
    assert {f["path"] for f in as_json(absolute)["findings"]} == {"service.py"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not under the working directory: the absolute path
    assert {f["path"] for f in as_json(absolute)["findings"]} == {Path(absolute).as_posix()}


def test_json_for_a_clean_tree(project: Path) -> None:
    document = as_json("clean")
    assert document["findings"] == []
    assert document["summary"] == {"files": 2, "flagged": 0, "escalated": 0, "findings": 0}


# -- SARIF ------------------------------------------------------------------------------------


def _validate_sarif(document: dict[str, Any]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.mark.parametrize("target", [".", "clean"])
def test_sarif_validates_against_the_official_schema(project: Path, target: str) -> None:
    _validate_sarif(json.loads(run("--format", "sarif", target)))


def test_sarif_describes_every_rule_with_its_documentation(project: Path) -> None:
    document = json.loads(run("--format", "sarif", "."))
    assert document["version"] == "2.1.0"
    [sarif_run] = document["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "pyarch-lint"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(BUILTIN.by_code) <= set(rules)
    docs = load_catalogue()
    for code, doc in docs.items():
        assert rules[code]["name"] == doc.name
        assert rules[code]["help"]["text"] == doc.text
        assert rules[code]["shortDescription"]["text"]


def test_sarif_results_point_at_rules_and_regions(project: Path) -> None:
    document = json.loads(run("--format", "sarif", "."))
    [sarif_run] = document["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    findings = as_json(".")["findings"]
    results = sarif_run["results"]
    assert len(results) == len(findings)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for result, finding in zip(results, findings, strict=True):
        assert result["ruleId"] == finding["code"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == levels[finding["severity"]]
        assert result["message"]["text"] == finding["message"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == finding["path"]
        assert physical["region"] == {
            "startLine": finding["line"],
            "startColumn": finding["column"],
            "endLine": finding["end_line"],
            "endColumn": finding["end_column"],
        }


# -- GitHub workflow commands -----------------------------------------------------------------


def test_github_annotations_map_severity_and_place(project: Path) -> None:
    lines = run("--format", "github", ".").splitlines()
    assert len(lines) == 6
    # Errors first, then warnings, then the rest: GitHub shows only so many of a step.
    assert [line.split(" ", 1)[0] for line in lines] == [
        "::error",
        *["::warning"] * 3,
        *["::notice"] * 2,
    ]
    assert lines[0].startswith("::error file=broken.py,line=1,col=1,")
    assert "title=PA001 syntax-error::PA001 syntax error: " in lines[0]
    assert lines[1].startswith(
        "::warning file=app/service.py,line=9,col=5,endLine=9,endColumn=12,"
        "title=PA301 bare-except::PA301 Bare `except:`"
    )
    assert lines[4] == (
        "::notice file=app/__init__.py,line=11,col=1,endLine=11,endColumn=17,"
        "title=PA303 silenced-exception::PA303 "
        + as_json("app/__init__.py")["findings"][0]["message"]
    )


def test_github_escapes_what_would_end_a_property_or_a_command(project: Path) -> None:
    odd = project / "100%,done:now.py"
    odd.write_text("try:\n    pass\nexcept:\n    pass\n", encoding="utf-8")
    lines = run("--format", "github", "--select", "PA301", str(odd.name)).splitlines()
    assert lines == [
        "::warning file=100%25%2Cdone%3Anow.py,line=3,col=1,endLine=3,endColumn=8,"
        "title=PA301 bare-except::PA301 " + as_json(odd.name)["findings"][0]["message"]
    ]


# -- Exactness of the fast paths ---------------------------------------------------------------

# Strings that every encoder and escaper must get right: quotes, backslashes, line breaks,
# terminal escapes, separators, non-ASCII, an astral character, a lone surrogate (an undecodable
# file name) and HTML.
AWKWARD = [
    'say "hi" \\ ',
    "two\nlines\r\n\t",
    "\x1b[31m\x7f\x9b",
    "\u2028\u202e",
    "café 😀",
    "\udc80",
    "</script>",
]


def _outcome(findings: list[Finding], **more: Any) -> Outcome:
    return Outcome(
        findings,
        more.get("critiques", []),
        more.get("not_reviewed", []),
        9,
        2,
        1,
        excerpts=more.get("excerpts", {}),
    )


def test_json_is_exactly_what_json_dumps_writes_for_the_contract_document() -> None:
    findings = [
        Finding(
            text + ".py", n, n + 1, n + 2, n + 3, "PA101", text, Severity(n % 3 + 1), text, text
        )
        for n, text in enumerate(AWKWARD, start=1)
    ]
    item = CritiqueItem(3, 5, Severity.WARNING, AWKWARD[0], AWKWARD[1], AWKWARD[2], AWKWARD[3])
    critique = Critique(
        "a.py", "model", AWKWARD[4], (item,), True, AWKWARD[5], 2, (AWKWARD[0],), (AWKWARD[6],)
    )
    skipped = NotReviewed(AWKWARD[6], "too large")
    outcome = _outcome(findings, critiques=[critique], not_reviewed=[skipped])
    expected = {
        "version": 1,
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "end_line": f.end_line,
                "end_column": f.end_column,
                "code": f.code,
                "name": f.name,
                "severity": ["info", "warning", "error"][f.severity - 1],
                "message": f.message,
                "source": f.source,
            }
            for f in findings
        ],
        "critiques": [
            {
                "path": "a.py",
                "model": "model",
                "summary": AWKWARD[4],
                "cached": True,
                "note": AWKWARD[5],
                "dropped_items": 2,
                "trade_offs": [AWKWARD[0]],
                "testing": [AWKWARD[6]],
                "monitoring": [],
                "items": [
                    {
                        "line": 3,
                        "end_line": 5,
                        "severity": "warning",
                        "principle": AWKWARD[0],
                        "problem": AWKWARD[1],
                        "suggestion": AWKWARD[2],
                        "example": AWKWARD[3],
                    }
                ],
            }
        ],
        "not_reviewed": [{"path": AWKWARD[6], "reason": "too large"}],
        "summary": {"files": 9, "flagged": 2, "escalated": 1, "findings": len(findings)},
    }
    # A lone surrogate (AWKWARD[5]) is written as the byte it stands for: `\\x80`.
    written = json.dumps(expected, ensure_ascii=False).replace("\udc80", "\\\\x80")
    assert render_json(outcome) == written + "\n"
    empty = {**expected, "findings": [], "critiques": [], "not_reviewed": []}
    empty["summary"] = {"files": 9, "flagged": 2, "escalated": 1, "findings": 0}
    assert render_json(_outcome([])) == json.dumps(empty, ensure_ascii=False) + "\n"


def test_lone_surrogates_are_shown_as_the_bytes_they_stand_for() -> None:
    # os.fsdecode turns the undecodable byte 0x80 into U+DC80; other lone surrogates (a model's
    # JSON may hold one) stay recognisable; text without one comes back as it is.
    assert escape_surrogates("bad\udc80\udcff.py") == "bad\\x80\\xff.py"
    assert escape_surrogates("a\ud800b\udfffc") == "a\\ud800b\\udfffc"
    for text in [t for t in AWKWARD if t != "\udc80"]:
        assert escape_surrogates(text) is text


def _awkward_outcome() -> Outcome:
    """Every AWKWARD string as a path and a message, twice the last finding (copies in one
    scope), and a critique of a file with an undecodable name whose text holds a surrogate."""
    findings = [
        Finding(text + ".py", n, 1, n + 1, 2, "PA101", "n", Severity(n % 3 + 1), text)
        for n, text in enumerate(AWKWARD, start=1)
    ]
    findings.append(findings[-1])
    item = CritiqueItem(3, 5, Severity.WARNING, "\udc80", AWKWARD[1], "\ud800 " + AWKWARD[2])
    critique = Critique("\udc80.py", "m", "s", (item,), monitoring=("\udc80 " + AWKWARD[6],))
    return _outcome(findings, critiques=[critique])


CRITIQUE_TEXT = f"\\x80: {AWKWARD[1]} Suggestion: \\ud800 {AWKWARD[2]}"


def test_gitlab_is_exactly_what_json_dumps_writes_with_surrogates_escaped() -> None:
    outcome = _awkward_outcome()
    text = render_gitlab(outcome)
    text.encode("utf-8")  # a lone surrogate would raise here, as it would on stdout
    issues = json.loads(text)
    assert text == json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
    findings = outcome.findings
    assert [i["location"] for i in issues] == [
        *(
            {"path": escape_surrogates(f.path), "lines": {"begin": f.line, "end": f.end_line}}
            for f in findings
        ),
        {"path": "\\x80.py", "lines": {"begin": 3, "end": 5}},
    ]
    assert [i["description"] for i in issues] == [
        *(f"PA101 n: {escape_surrogates(f.message)}" for f in findings),
        CRITIQUE_TEXT,
    ]
    assert [i["categories"] for i in issues] == [
        *(["Complexity"] for f in findings),  # PA101's family: structure
        ["Complexity"],
    ]
    assert [i["check_name"] for i in issues] == ["PA101"] * len(findings) + [
        "architecture-critique"
    ]
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert render_gitlab(_outcome([])) == "[]\n"


def test_sarif_is_one_line_of_json_with_surrogates_escaped() -> None:
    outcome = _awkward_outcome()
    text = render_sarif(outcome)
    assert text.count("\n") == 1  # compact; a line break in a string is written `\n`
    assert text.endswith("}\n")
    text.encode("utf-8")
    document = json.loads(text)
    _validate_sarif(document)
    results = document["runs"][0]["results"]
    assert [r["message"]["text"] for r in results] == [
        *(escape_surrogates(f.message) for f in outcome.findings),
        f"s\n\nMonitoring:\n- \\x80 {AWKWARD[6]}",
        CRITIQUE_TEXT,
    ]
    assert results[-2]["message"]["markdown"] == (
        "s\n\n**Monitoring**\n\n- \\\\x80 \\<\\/script\\>"
    )
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris[5] == uris[-1] == "%80.py"  # the name's own byte


def test_baseline_file_is_exactly_what_json_dumps_writes_for_each_entry() -> None:
    texts = [t for t in AWKWARD if t != "\udc80"]  # keys() never holds a surrogate
    found = [Key(t, "PA101", t, "f" * 16) for t in texts] + [Key("a.py", "PA201", "", "0" * 16)]
    text = dumps([*found, found[0]])
    document = json.loads(text)
    rows = [json.dumps(entry, ensure_ascii=False) for entry in document["findings"]]
    assert (
        text
        == '{\n  "version": 1,\n  "findings": [\n'
        + ",\n".join(f"    {row}" for row in rows)
        + "\n  ]\n}\n"
    )
    entries = [(e["path"], e["code"], e["scope"], e["fingerprint"]) for e in document["findings"]]
    assert entries == sorted(found)
    assert [e["count"] for e in document["findings"]] == [
        2 if key == found[0] else 1 for key in sorted(found)
    ]
    assert dumps([]) == '{\n  "version": 1,\n  "findings": []\n}\n'


def test_untrusted_text_is_escaped_and_plain_text_left_alone() -> None:
    assert one_line("a\tb\r\nc\nd\x1b[2J\u202e") == "a b c d\\x1b[2J\\u202e"
    assert one_line("a\tb\x1b") == "a b\\x1b"
    assert one_line("bidi\u202e") == sanitize("bidi\u202e") == "bidi\\u202e"
    assert sanitize("a\tb\nc\x1b\x85") == "a\tb\nc\\x1b\\x85"
    assert sanitize("\x1b[2J") == "\\x1b[2J"
    assert one_line("bad\udcff\ud800.py") == sanitize("bad\udcff\ud800.py") == "bad\\xff\\ud800.py"
    for plain in ("plain text: `x` -> y", "café 😀", ""):
        assert one_line(plain) == sanitize(plain) == plain


def test_no_line_of_output_for_people_can_be_a_ci_command() -> None:
    text = "::error::first\n  ##[group]x\nmid :: and ## stay\n\t::warning::y\r\n::z\nok ##vso[x]\n"
    assert inert_lines(text) == (
        "\\::error::first\n  \\##[group]x\nmid :: and ## stay\n\t\\::warning::y\r\n\\::z\n"
        "ok ##vso\\[x]\n"
    )
    assert inert_lines("  ##teamcity[x]") == "  \\##teamcity[x]"
    assert inert_lines("plain\n") == "plain\n"


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    lines = [f"x{n} = {n}" for n in range(1, 8)] + ["def f(a, bb):", "    return a", "", "y = 1"]
    (tmp_path / "m.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "m.py"


def _at(path: str, line: int, column: int, end: int, severity: Severity = Severity.INFO) -> Finding:
    return Finding(path, line, column, line, end, "PA201", "n", severity, f"at {line}:{column}")


def test_findings_on_one_line_share_its_context_and_each_gets_its_own_carets(source: str) -> None:
    # Line 8 shows lines 6-10 (a two-digit gutter), line 7 shows 5-9 (a one-digit one).
    findings = [_at(source, 7, 1, 3), _at(source, 8, 7, 8), _at(source, 8, 10, 12)]
    assert render_text(_outcome(findings, excerpts=excerpts(findings))).splitlines() == [
        "m.py:7:1: PA201 at 7:1",
        "  |",
        "5 | x5 = 5",
        "6 | x6 = 6",
        "7 | x7 = 7",
        "  | ^^",
        "8 | def f(a, bb):",
        "9 |     return a",
        "  |",
        "",
        "m.py:8:7: PA201 at 8:7",
        "   |",
        " 6 | x6 = 6",
        " 7 | x7 = 7",
        " 8 | def f(a, bb):",
        "   |       ^",
        " 9 |     return a",
        "10 |",
        "   |",
        "",
        "m.py:8:10: PA201 at 8:10",
        "   |",
        " 6 | x6 = 6",
        " 7 | x7 = 7",
        " 8 | def f(a, bb):",
        "   |          ^^",
        " 9 |     return a",
        "10 |",
        "   |",
        "",
    ]


def test_colour_is_click_styles_around_each_part(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pyarch_lint.report.text.use_colour", lambda: True)
    findings = [_at(source, 11, 1, 2, Severity.ERROR)]
    shown = render_text(_outcome(findings, excerpts=excerpts(findings))).splitlines()

    def blue(text: str) -> str:
        return click.style(text, fg="blue", bold=True)

    assert shown == [
        f"{click.style('m.py:11:1:', bold=True)} {click.style('PA201', fg='red', bold=True)} "
        "at 11:1",
        blue("   |"),
        f"{blue(' 9 |')}     return a",
        blue("10 |"),
        f"{blue('11 |')} y = 1",
        f"{blue('   |')} {click.style('^', fg='red', bold=True)}",
        "",
    ]


def _finding(path: str, severity: Severity, code: str = "PA101") -> Finding:
    return Finding(path, 1, 1, 1, 2, code, "name", severity, "message")


ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@pytest.mark.parametrize(
    ("findings", "files", "baselined", "line"),
    [
        ([], 0, 0, "No files to check."),
        ([], 1, 0, "All checks passed: 1 file, no findings."),
        ([], 20, 37, "All checks passed: 20 files, no findings (37 hidden by the baseline)."),
        ([("a", ERROR)], 1, 0, "Found 1 error in 1 file."),
        ([("a", WARNING), ("b", WARNING)], 2, 0, "Found 2 warnings in 2 files."),
        ([("a", INFO)], 3, 0, "Found 1 info finding in 1 of 3 files."),
        ([("a", INFO), ("a", INFO)], 20, 0, "Found 2 info findings in 1 of 20 files."),
        (
            [
                ("a", INFO),
                ("a", ERROR),
                ("b", WARNING),
                ("c", ERROR),
                ("c", INFO),
                ("c", WARNING),
                ("d", WARNING),
            ],
            20,
            1,
            "Found 7 findings (2 errors, 3 warnings, 2 info) in 4 of 20 files"
            " (1 hidden by the baseline).",
        ),
        ([("a", WARNING), ("a", INFO)], 1, 0, "Found 2 findings (1 warning, 1 info) in 1 file."),
    ],
)
def test_the_summary_line_reads_naturally(
    findings: list[tuple[str, Severity]], files: int, baselined: int, line: str
) -> None:
    outcome = Outcome(
        [_finding(p, s) for p, s in findings], [], [], files, 0, 0, baselined=baselined
    )
    assert summary_line(outcome) == line


def test_gitlab_categories_follow_the_rule_family() -> None:
    codes = [
        *("PA001", "PA004", "PA101", "PA103", "PA201", "PA301", "PA303", "PA401", "PA403"),
        *("PA503", "PA504", "PA506"),
        "PA607",
        "ACME101",
    ]
    outcome = _outcome([_finding(f"{code}.py", Severity.INFO, code) for code in codes])
    categories = [issue["categories"] for issue in json.loads(render_gitlab(outcome))]
    assert categories == [
        ["Bug Risk"],  # a file that does not parse
        ["Style"],  # an unused noqa comment
        ["Complexity"],
        ["Complexity"],
        ["Clarity"],  # type hints
        ["Bug Risk"],
        ["Bug Risk"],
        ["Bug Risk"],  # asyncio
        ["Bug Risk"],
        ["Complexity"],  # architecture
        ["Performance"],  # a client built per call
        ["Complexity"],
        ["Security"],  # a hard-coded secret
        ["Bug Risk"],  # a plugin's rule
    ]

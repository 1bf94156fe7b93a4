"""Untrusted text in output: real files whose names (and one whose finding's message) carry
terminal escapes, newlines and CI workflow-command syntax. In every format the text is escaped:
no raw control character reaches a terminal, no line of output reads as a workflow command
(`::error ...`, `##[...]`, `##vso[`), no finding can be forged by a name, and the machine-read
formats (json, sarif, gitlab, github) still carry each name exactly."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner, Result

from pyarch_lint.cli import main

SWALLOWING = b"try:\n    pass\nexcept:\n    pass\n"  # PA301 on line 3 (with --select PA301,PA303)
NAMES = [
    "esc\x1b[31mred\x1b[0m\x1b]0;window title\x07.py",
    "new\nline.py",
    "carriage\rreturn.py",
    "::error file=forged.py,line=1::forged.py",
    "  ::warning::leading.py",
    "##[error]legacy.py",
    "x ##vso[task.logissue type=error]azure.py",
    "%0A%25percent.py",
    "bidi\u202eyp.txt.py",
    "line\u2028separator.py",
    "c1\x9b31mcsi.py",
    "tab\tname.py",
]
# A PA303 message quotes the handler's types as written: here a string with the same payloads.
MESSAGE = (
    b'try:\n    pass\nexcept (ValueError, """\n::error file=x.py,line=1::forged by a message\n'
    b'\x1b]0;pwned\x07 \x1b[2J"""):\n    pass\n'
)
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
COMMAND = re.compile(r"^\s*(::|##)|##vso\[", re.MULTILINE)
FINDINGS = len(NAMES) + 1


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nselect = ["PA301", "PA303"]\n', "utf-8"
    )
    for name in NAMES:
        (root / name).write_bytes(SWALLOWING)
    (root / "message.py").write_bytes(MESSAGE)
    monkeypatch.chdir(root)
    return root


def lint(*args: str) -> Result:
    # color=True: the output exactly as written, nothing stripped on the way to the test.
    return CliRunner().invoke(main, ["--no-llm", "--no-cache", "-j", "1", *args], color=True)


def _inert(text: str) -> None:
    assert not RAW_CONTROL.search(text), RAW_CONTROL.search(text)
    assert not COMMAND.search(text), COMMAND.search(text)


@pytest.mark.usefixtures("tree")
@pytest.mark.parametrize(
    "args",
    [
        ["--format", "text", "."],
        ["--format", "concise", "."],
        ["--explain", "."],
        ["--statistics", "."],
        ["--show-files", "."],
        ["-v", "--format", "concise", "."],
    ],
    ids=["text", "concise", "explain", "statistics", "show-files", "verbose"],
)
def test_output_for_people_is_inert(args: list[str]) -> None:
    result = lint(*args)
    assert result.exit_code in (0, 1), result.output
    _inert(result.stdout)
    _inert(result.stderr)


@pytest.mark.usefixtures("tree")
def test_concise_output_has_one_line_per_finding_and_no_forged_one() -> None:
    lines = lint("--format", "concise", ".").stdout.splitlines()
    assert len(lines) == FINDINGS
    assert all(re.search(r":3:1: PA30[13] ", line) for line in lines)


@pytest.mark.usefixtures("tree")
def test_github_annotations_are_exactly_ours_with_every_name_escaped() -> None:
    lines = lint("--format", "github", ".").stdout.splitlines()
    assert len(lines) == FINDINGS
    files = []
    for line in lines:
        assert line.startswith(("::warning file=", "::notice file=")), line
        assert not RAW_CONTROL.search(line)
        # The first `::` ends the properties; after it everything is the message's text.
        properties, _, message = line.partition(" ")[2].partition("::")
        assert "%0A::error file=x.py" in message or "PA303" not in message
        files.append(properties.split(",")[0].removeprefix("file="))
    unescaped = {
        f.replace("%3A", ":").replace("%2C", ",").replace("%0A", "\n").replace("%25", "%")
        for f in files
    }
    # Names without control characters come back exactly; the others are visibly escaped.
    assert {n for n in NAMES if not RAW_CONTROL.search(n)} < unescaped
    assert "esc\\x1b[31mred\\x1b[0m\\x1b]0;window title\\x07.py" in unescaped


@pytest.mark.usefixtures("tree")
@pytest.mark.parametrize("output_format", ["json", "gitlab"])
def test_json_formats_carry_every_name_exactly(output_format: str) -> None:
    stdout = lint("--format", output_format, ".").stdout
    document: Any = json.loads(stdout)
    items = document["findings"] if output_format == "json" else document
    paths = {i["path"] if output_format == "json" else i["location"]["path"] for i in items}
    assert paths == {*NAMES, "message.py"}


@pytest.mark.usefixtures("tree")
def test_sarif_carries_every_name_as_a_percent_encoded_uri() -> None:
    document = json.loads(lint("--format", "sarif", ".").stdout)
    uris = [
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for result in document["runs"][0]["results"]
    ]
    assert all(re.fullmatch(r"[A-Za-z0-9%._~/\-!$&'()*+,;=:@]+", uri) for uri in uris), uris
    assert {unquote(uri) for uri in uris} == {*NAMES, "message.py"}


# A name that is not valid UTF-8 (on Linux a name is any bytes): Python holds its bad bytes as
# lone surrogates, which no encoder writes, so each format shows such a byte escaped (`\xff`, as
# a control character is), and SARIF percent-encodes the name's bytes. Run through CliRunner,
# whose stdout, like a UTF-8 terminal's, refuses a surrogate.
UNDECODABLE = os.fsdecode(b"bad\xff.py")
SHOWN = {"json": "bad\\\\xff.py", "gitlab": "bad\\\\xff.py", "sarif": "bad%FF.py"}  # as written


@pytest.fixture
def undecodable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    try:
        (tmp_path / UNDECODABLE).write_bytes(SWALLOWING)
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only valid UTF-8 names")
    (tmp_path / "pyproject.toml").write_text('[tool.pyarch-lint]\nselect = ["PA301"]\n', "utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.usefixtures("undecodable")
@pytest.mark.parametrize(
    "output_format",
    ["text", "concise", "json", "github", "gitlab", "sarif"],
)
def test_a_name_that_is_not_utf8_is_shown_escaped_in_every_format(output_format: str) -> None:
    result = lint("--format", output_format, ".")
    assert result.exit_code == 1, result.output
    assert SHOWN.get(output_format, "bad\\xff.py") in result.stdout
    if output_format in ("json", "gitlab", "sarif"):
        json.loads(result.stdout)


@pytest.mark.usefixtures("undecodable")
def test_machine_formats_name_an_undecodable_file_so_it_can_be_found() -> None:
    [issue] = json.loads(lint("--format", "gitlab", ".").stdout)
    assert issue["location"]["path"] == "bad\\xff.py"
    document = json.loads(lint("--format", "sarif", ".").stdout)
    [result] = document["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert unquote(uri, errors="surrogateescape") == UNDECODABLE  # the file's very bytes

"""Suppression comments, read the way flake8 and ruff read them: `# noqa: CODE[, CODE]` on the
reported line, a bare `# noqa`, and a file-level `# pyarch-lint: noqa` with or without codes."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner
from conftest import with_rule_class

from pyarch_lint.catalogue import load_catalogue
from pyarch_lint.checks.errors import BareExcept
from pyarch_lint.cli import main
from pyarch_lint.config import Settings, settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.suppress import scan

SUPPRESS = Path(__file__).parent / "fixtures" / "suppress"
PA3 = settings_from_toml('select = ["PA3", "PA004"]')  # the handler rules, comments judged
ALL = settings_from_toml('select = ["ALL"]')


def found(source: str | bytes, settings: Settings = PA3) -> list[tuple[int, str]]:
    data = source.encode("utf-8") if isinstance(source, str) else source
    return [(f.line, f.code) for f in check_source(data, "x.py", settings)]


def without_suppressions(text: str) -> str:
    text = re.sub(r"  # noqa[^\n]*", "", text, flags=re.IGNORECASE)
    return re.sub(r"^# pyarch-lint: noqa.*\n", "", text, flags=re.MULTILINE)


def test_the_fixture_reports_only_what_no_comment_covers() -> None:
    assert found((SUPPRESS / "handlers.py").read_bytes()) == [
        (12, "PA301"),  # the comment names PA302 only
        (40, "PA302"),  # the comment names only E501, a ruff code
        (52, "PA004"),  # comments on other lines of the try statement do not count,
        (54, "PA302"),
        (55, "PA004"),  # and are reported as suppressing nothing
    ]


def test_without_its_comments_the_fixture_trips_every_handler() -> None:
    # The control: each suppression above hides a real finding.
    text = without_suppressions((SUPPRESS / "handlers.py").read_text(encoding="utf-8"))
    assert found(text) == [
        (12, "PA301"),
        (12, "PA302"),
        (19, "PA301"),
        (19, "PA302"),
        (26, "PA301"),
        (26, "PA302"),
        (33, "PA302"),
        (40, "PA302"),
        (47, "PA302"),
        (54, "PA302"),
    ]


@pytest.mark.parametrize(
    ("name", "remaining"),
    [("file_level.py", []), ("file_level_codes.py", [(11, "PA301")])],
)
def test_file_level_suppression_with_and_without_codes(
    name: str, remaining: list[tuple[int, str]]
) -> None:
    text = (SUPPRESS / name).read_text(encoding="utf-8")
    assert found(text, ALL) == remaining
    assert {code for _, code in found(without_suppressions(text))} == {"PA301", "PA302"}


HANDLER = "try:\n    pass\nexcept:{comment}\n    pass\n"  # PA301 and PA302 on line 3


@pytest.mark.parametrize(
    ("comment", "remaining"),
    [
        ("", ["PA301", "PA302"]),
        ("  # noqa: PA302", ["PA301"]),
        ("  # noqa: PA301,PA302", []),
        ("  # noqa:PA301 PA302", []),
        ("  # noqa: PA3", []),  # a prefix, like --ignore
        ("  # noqa", []),
        ("  # NOQA", []),
        ("  # noqa - legacy code, tracked in #123", []),
        ("  # noqa: E722", ["PA301", "PA302"]),
        ("  # noqa: E722, PA301", ["PA302"]),
        ("  # noqa: BLE001 - not ours", ["PA301", "PA302"]),
        ("  # type: ignore  # noqa: PA301", ["PA302"]),
        ("  # noqa: PA4", ["PA301", "PA302"]),
        ("  # pyarch-lint: noqa", ["PA301", "PA302"]),  # file-level only on a line of its own
    ],
)
def test_line_comments(comment: str, remaining: list[str]) -> None:
    assert [code for _, code in found(HANDLER.format(comment=comment))] == remaining


@pytest.mark.parametrize(
    ("header", "remaining"),
    [
        ("# pyarch-lint: noqa", []),
        ("#pyarch-lint:noqa", []),
        ("# pyarch-lint: noqa: PA301", ["PA302"]),
        ("# pyarch-lint: noqa: PA301, PA302", []),
        ("# pyarch-lint: noqa: PA1", ["PA301", "PA302"]),
        ("    # pyarch-lint: noqa", []),  # indented, still a comment line
        ("# some other tool: noqa", ["PA301", "PA302"]),
    ],
)
def test_file_level_comments(header: str, remaining: list[str]) -> None:
    source = "import os\n" + HANDLER.format(comment="") + header + "\n"
    assert [code for _, code in found(source)] == remaining


def test_file_level_noqa_covers_later_lines_and_every_rule() -> None:
    source = "# pyarch-lint: noqa\n" + HANDLER.format(comment="") + "def f(x, y):\n    return x\n"
    assert found(source, ALL) == []
    assert found(source.replace("# pyarch-lint: noqa\n", ""), ALL) != []


def test_a_syntax_error_is_reported_even_in_a_suppressed_file() -> None:
    # Nothing else can be said about a file that does not parse: silence would hide that.
    assert found("# pyarch-lint: noqa\ndef broken(:\n") == [(2, "PA001")]


def test_noqa_works_in_crlf_files() -> None:
    source = HANDLER.format(comment="  # noqa: PA302").replace("\n", "\r\n")
    assert [code for _, code in found(source)] == ["PA301"]


def test_noqa_on_a_one_line_handler() -> None:
    assert found("try: pass\nexcept: pass  # noqa: PA302\n") == [(2, "PA301")]


# -- PA004 unused-noqa -------------------------------------------------------------------------

UNUSED = (SUPPRESS / "unused.py").read_bytes()


def unused_noqa(
    source: bytes | str, body: str = "", path: str = "x.py"
) -> list[tuple[int, int, int, str]]:
    data = source.encode("utf-8") if isinstance(source, str) else source
    findings = check_source(data, path, settings_from_toml(body))
    return [(f.line, f.column, f.end_column, f.message) for f in findings if f.code == "PA004"]


FIXTURE_UNUSED = [
    (15, 20, 33, "unused `# noqa`: PA401 is not reported on this line"),
    (17, 17, 36, "unused `# noqa`: PA999 is not a known code"),
    (20, 40, 51, "unused `# noqa`: PA4 is not reported on this line"),
    (26, 14, 41, "unused `# noqa`: PA303 is not reported on this line"),
]


def test_unused_noqa_names_the_codes_that_suppress_nothing() -> None:
    # Not reported: E501 (another tool's), the bare noqa, PA203 (not enabled), the string on
    # line 11, the comment naming PA004, and the comment at the end of the multi-line string,
    # which suppresses the call on the string's first line.
    assert unused_noqa(UNUSED) == FIXTURE_UNUSED


def test_without_its_comments_the_fixture_has_what_they_suppress() -> None:
    text = without_suppressions(UNUSED.decode("utf-8"))
    assert [(line, code) for line, code in found(text, ALL) if code[:3] in ("PA3", "PA4")] == [
        (8, "PA401"),
        (9, "PA401"),
        (26, "PA301"),
        (26, "PA302"),
        (33, "PA301"),
        (33, "PA302"),
    ]


def test_the_documents_examples() -> None:
    # PA004 judges the other rules' findings: its examples run with the default rules.
    doc = load_catalogue()["PA004"]
    (bad,), (good,) = doc.examples("Example"), doc.examples("Use instead")
    assert unused_noqa(bad) == [(9, 20, 33, "unused `# noqa`: PA401 is not reported on this line")]
    assert unused_noqa(good) == []


def test_a_bare_noqa_is_judged_only_when_asked() -> None:
    bare = (18, 16, 22, "unused `# noqa`: no finding on this line to suppress")
    assert unused_noqa(UNUSED, "[noqa]\ncheck-bare = true") == sorted([*FIXTURE_UNUSED, bare])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Codes of rules that did not run are not judged; unknown codes always are.
        ('select = ["PA3"]', []),  # PA004 is selected like any rule
        ('select = ["PA3", "PA004"]', [FIXTURE_UNUSED[1], FIXTURE_UNUSED[3]]),
        ('ignore = ["PA004"]', []),
        # The rules still run on a file they are ignored for: a comment is judged by what it hid.
        ('[per-file-ignores]\n"x.py" = ["PA401"]', FIXTURE_UNUSED),
        ('[per-file-ignores]\n"x.py" = ["PA004"]', []),
    ],
)
def test_unused_noqa_and_the_selection(
    body: str, expected: list[tuple[int, int, int, str]]
) -> None:
    assert unused_noqa(UNUSED, body) == expected


def test_unused_noqa_and_the_file_level_comment() -> None:
    source = "# pyarch-lint: noqa: PA302, PA403\n" + HANDLER.format(comment="  # noqa: PA302")
    assert unused_noqa(source) == [
        (1, 1, 34, "unused `# pyarch-lint: noqa`: PA403 is not reported in this file"),
        (4, 10, 23, "unused `# noqa`: PA302 is not reported on this line"),  # the file's hid it
    ]
    bare = "# pyarch-lint: noqa\n" + HANDLER.format(comment="  # noqa: PA401")
    assert unused_noqa(bare) == []
    named = "# pyarch-lint: noqa: PA004\n" + HANDLER.format(comment="  # noqa: PA401")
    assert unused_noqa(named) == []


class _CrashingBareExcept(BareExcept):
    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        raise ValueError("boom")


def test_the_codes_of_a_crashed_rule_are_not_judged() -> None:
    settings = with_rule_class(Settings.default(), "PA301", _CrashingBareExcept)
    source = HANDLER.format(comment="  # noqa: PA301, PA302, PA401").encode()
    findings = [f for f in check_source(source, "x.py", settings) if f.code == "PA004"]
    assert [(f.line, f.column, f.end_column, f.message) for f in findings] == [
        (3, 10, 37, "unused `# noqa`: PA401 is not reported on this line")
    ]


def test_unused_noqa_is_cached_like_any_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint]\n", encoding="utf-8")
    (tmp_path / "x.py").write_bytes(UNUSED)
    monkeypatch.chdir(tmp_path)
    runs = [
        CliRunner().invoke(main, ["--no-llm", "--format", "concise", "--select", "PA004", "x.py"])
        for _ in range(2)
    ]
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout.count("PA004") == 1  # only PA999: PA004 alone judges no other rule
    assert (tmp_path / ".pyarch_lint_cache").is_dir()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1\ny = 2\n", {}),
        ("x = \\\n    1 + \\\n    2\ny = 3\n", {1: 3, 2: 3}),
        ('x = f(1, """a\nb\n""")\n', {1: 3, 2: 3}),
        ("x = f(\n    1,\n)\n", {}),  # inside brackets every line can end in a comment
        ('x = """a\nb""" + \\\n    """c\nd"""\n', {1: 4, 2: 4, 3: 4}),
        # Python 3.12 tokenizes an f-string in parts, with NL tokens in a replacement field.
        ('x = f"""a {\n    1\n} b"""\n', {1: 3, 2: 3}),
        ("x = 1  # a comment ending in \\\ny = 2\n", {}),
        ("x = 1\r\ny = \\\r\n    2\r\n", {2: 3}),
    ],
)
def test_where_a_lines_comment_goes(source: str, expected: dict[int, int]) -> None:
    assert scan(source).continued == expected

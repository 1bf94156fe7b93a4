"""Suppression comments, read the way flake8 and ruff read them: `# noqa: CODE[, CODE]` on the
reported line, a bare `# noqa`, and a file-level `# pyarch-lint: noqa` with or without codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyarch_lint.config import Settings, settings_from_toml
from pyarch_lint.engine import check_source

SUPPRESS = Path(__file__).parent / "fixtures" / "suppress"
PA3 = settings_from_toml('select = ["PA3"]')
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
        (54, "PA302"),  # comments on other lines of the try statement do not count
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

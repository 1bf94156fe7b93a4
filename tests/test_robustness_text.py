"""Odd text and big inputs: each file is analysed with line numbers true to the file as an editor
shows it (\\r\\n, \\r and \\n end a line; a form feed or U+2028 does not), or reported as PA001 /
PA002 with a message that says what is wrong; a big file is analysed or reported within the time
limit."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest

from pyarch_lint.config import settings_from_toml
from pyarch_lint.engine import SourceFile, check_source, run

PA3 = settings_from_toml('select = ["PA3"]')
EDITOR_LINES = re.compile(rb"\r\n|\r|\n")
HANDLER = b"try:\n    pass\nexcept:\n    pass\n"


def _editor_line_of(source: bytes, marker: bytes) -> tuple[int, int]:
    """1-based line and column of `marker`, counted as an editor counts them."""
    for number, line in enumerate(EDITOR_LINES.split(source), start=1):
        if marker in line:
            return number, line.decode("utf-8", "replace").index(marker.decode()) + 1
    raise AssertionError(f"{marker!r} not in the source")


ANALYSED = {
    "crlf": b"x = 1\r\n" + HANDLER.replace(b"\n", b"\r\n"),
    "lone cr": b"x = 1\r" + HANDLER.replace(b"\n", b"\r"),
    "mixed endings": b"x = 1\r\ny = 2\rz = 3\n" + HANDLER,
    "cr inside a string": b"x = '''a\rb\r\nc'''\n" + HANDLER,
    "form feeds": b"\x0c\nx = 1  # \x0c\n\x0c\n" + HANDLER,
    "form feed before the handler": b"try:\n    pass\n\x0cexcept:\n    pass\n",
    "separators in a string": "x = '\u2028\x85\u2029'  # \u2028 \x85\n".encode() + HANDLER,
    "utf-8 bom": b"\xef\xbb\xbf" + HANDLER,
    "bom and utf-8 cookie": b"\xef\xbb\xbf# -*- coding: utf-8 -*-\n" + HANDLER,
    "latin-1 cookie": b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n" + HANDLER,
    "cookie on line 2": b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x80'\n"
    + HANDLER,
    "cookie on line 3 is not one": b"\n\n# coding: latin-1\n" + HANDLER,
    "non-ascii before the handler": "x = 'ééé'; y = '日本'\n".encode() + HANDLER,
    "tabs only": b"if True:\n\ttry:\n\t\tpass\n\texcept:\n\t\tpass\n",
    "no trailing newline": HANDLER.rstrip(b"\n"),
    "windows-1252 cookie": b"# coding: windows-1252\ns = '\x93quoted\x94'\n" + HANDLER,
}


@pytest.mark.parametrize("source", ANALYSED.values(), ids=ANALYSED.keys())
def test_odd_text_is_analysed_at_the_lines_an_editor_shows(source: bytes) -> None:
    findings = check_source(source, "odd.py", PA3)
    line, column = _editor_line_of(source, b"except")
    assert [(f.code, f.line, f.column) for f in findings] == [
        ("PA301", line, column),
        ("PA302", line, column),
    ]


REPORTED = {
    "unknown cookie": (b"# coding: klingon\n" + HANDLER, "PA002", 1, "unknown encoding: klingon"),
    "cookie that is not a text codec": (
        b"# coding: rot13\n" + HANDLER,
        "PA002",
        1,
        "rot13",
    ),
    "bom against a latin-1 cookie": (
        b"\xef\xbb\xbf# coding: latin-1\n" + HANDLER,
        "PA002",
        1,
        "contradicts the UTF-8 BOM",
    ),
    "invalid utf-8": (b"x = 1\ny = '\xff'\n" + HANDLER, "PA002", 2, "byte 0xff"),
    "invalid utf-8 after lone crs": (b"x = 1\ry = 2\rz = '\xff'\r", "PA002", 3, "byte 0xff"),
    "latin-1 bytes without a cookie": (b"# caf\xe9\n" + HANDLER, "PA002", 1, "byte 0xe9"),
    "truncated utf-8": (b"x = 1\ny = '\xe6\x97", "PA002", 2, "utf-8"),
    "utf-16 with its bom": ("x = 1\n".encode("utf-16"), "PA002", 1, "byte 0xff"),
    "idna cookie": (b"# coding: idna\nx = '\xff'\n", "PA002", 2, "idna"),
    "utf-32 cookie": (b"# coding: utf-32\nx = 1\n", "PA002", 1, "utf-32"),
    "nul byte": (b"x = 1\n\x00\n" + HANDLER, "PA002", 2, "NUL byte"),
    "nul after a lone cr": (b"x = 1\ry = 2\r\x00", "PA002", 3, "NUL byte"),
    "python 2 print": (b"print 'hello'\n" + HANDLER, "PA001", 1, "Missing parentheses"),
    "python 2 raise": (b'x = 1\nraise ValueError, "x"\n', "PA001", 2, "invalid syntax"),
    "python 2 backticks": (b"x = `1`\n", "PA001", 1, "invalid syntax"),
    "python 2 long": (b"x = 10L\n", "PA001", 1, "invalid decimal literal"),
    "python 2 octal": (b"x = 0777\n", "PA001", 1, "syntax error"),
    "tabs mixed with spaces": (
        b"if x:\n\tif y:\n        pass\n",
        "PA001",
        3,
        "inconsistent use of tabs and spaces",
    ),
    "vertical tab": (b"x = 1\x0b\n", "PA001", 1, "non-printable character"),
}


@pytest.mark.parametrize(
    ("source", "code", "line", "words"), REPORTED.values(), ids=REPORTED.keys()
)
def test_odd_text_that_cannot_be_analysed_says_why(
    source: bytes, code: str, line: int, words: str
) -> None:
    [finding] = check_source(source, "odd.py", PA3)
    assert (finding.code, finding.line) == (code, line)
    assert words in finding.message


@pytest.mark.parametrize("source", [b"", b"\xef\xbb\xbf", b"\r", b"\x0c", b"\r\n\r\n", b"#"])
def test_files_with_nothing_in_them_have_no_findings(source: bytes) -> None:
    assert check_source(source, "empty.py", PA3) == []


def test_a_line_of_a_million_characters_is_analysed() -> None:
    source = b"x = '" + b"a" * 1_000_000 + b"'  # a comment\n" + HANDLER
    started = time.monotonic()
    findings = check_source(source, "long.py", PA3)
    assert time.monotonic() - started < 10
    assert [(f.code, f.line) for f in findings] == [("PA301", 4), ("PA302", 4)]


def test_tens_of_thousands_of_functions_are_analysed() -> None:
    functions = "".join(f"def f{i}(a, b):\n    return a + b\n" for i in range(20_000))
    source = functions.encode() + HANDLER
    findings = check_source(source, "many.py", PA3)
    assert [(f.code, f.line) for f in findings] == [("PA301", 40_003), ("PA302", 40_003)]


def test_a_file_too_big_for_the_limit_is_reported_within_it(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    # About 4 MB of valid code: LibCST needs most of a minute for it.
    big.write_text("x = [" + ", ".join(["1"] * 1_300_000) + "]\n", encoding="utf-8")
    small = tmp_path / "small.py"
    small.write_bytes(HANDLER)
    files = [SourceFile("big.py", big), SourceFile("small.py", small)]
    settings = dataclasses.replace(PA3, file_timeout=2.0)
    started = time.monotonic()
    result = run(files, settings, 2, None)
    assert time.monotonic() - started < 15
    assert [(f.path, f.code) for f in result.findings] == [
        ("big.py", "PA003"),
        ("small.py", "PA301"),
        ("small.py", "PA302"),
    ]
    assert "file-timeout (2 s)" in result.findings[0].message

"""`--add-noqa`: after it, a run finds nothing a comment can suppress, every file still parses
with every other byte kept, and running it again changes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pyarch_lint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "add_noqa"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["--no-llm", "--no-cache", "--jobs", "1", *args])


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Findings in awkward places, in CRLF, BOM and Latin-1 files, and a file that does not
    parse."""
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint]\n", encoding="utf-8")
    calls = (FIXTURES / "calls.py").read_text(encoding="utf-8")
    (tmp_path / "calls.py").write_text(calls, encoding="utf-8", newline="\n")
    (tmp_path / "crlf.py").write_bytes(calls.encode("utf-8").replace(b"\n", b"\r\n"))
    (tmp_path / "bom.py").write_bytes(b'\xef\xbb\xbfdef name(x):\n    return "\xc3\xa9" + x\n')
    latin = b'# -*- coding: latin-1 -*-\ndef name(x):\n    return "\xe9" + x\n'
    (tmp_path / "latin.py").write_bytes(latin)
    (tmp_path / "broken.py").write_bytes(b"def broken(:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_add_noqa_then_nothing_but_the_syntax_error_remains(tree: Path) -> None:
    before = snapshot(tree)
    added = run("--add-noqa", ".")
    assert added.exit_code == 1, added.output  # the syntax error is left, and said so
    assert added.stderr.splitlines() == [
        "pyarch-lint: broken.py:1:12: PA001: a comment cannot suppress it: the file does not parse",
        "Added 16 noqa comments in 4 files.",  # 7 lines in calls.py and in crlf.py
    ]
    after = run("--format", "concise", ".")
    assert after.stdout == "broken.py:1:12: PA001 syntax error: invalid syntax\n"
    for name, data in snapshot(tree).items():
        if name.endswith(".py") and name != "broken.py":
            compile(data, name, "exec", dont_inherit=True)
    assert snapshot(tree)["broken.py"] == before["broken.py"]


def test_the_comments_go_where_they_are_legal_and_are_read(tree: Path) -> None:
    run("--add-noqa", ".")
    expected = (FIXTURES / "calls.after").read_bytes()
    assert (tree / "calls.py").read_bytes() == expected


def test_line_endings_bom_and_encoding_are_kept(tree: Path) -> None:
    run("--add-noqa", ".")
    crlf = (tree / "crlf.py").read_bytes()
    assert crlf == (FIXTURES / "calls.after").read_bytes().replace(b"\n", b"\r\n")
    assert (tree / "bom.py").read_bytes() == (
        b'\xef\xbb\xbfdef name(x):  # noqa: PA204\n    return "\xc3\xa9" + x\n'
    )
    assert (tree / "latin.py").read_bytes() == (
        b'# -*- coding: latin-1 -*-\ndef name(x):  # noqa: PA204\n    return "\xe9" + x\n'
    )


def test_a_second_add_noqa_changes_nothing(tree: Path) -> None:
    run("--add-noqa", ".")
    once = snapshot(tree)
    again = run("--add-noqa", ".")
    assert again.stderr.splitlines()[-1] == "Added 0 noqa comments in 0 files."
    assert snapshot(tree) == once


def test_a_symlink_is_neither_followed_nor_replaced(tree: Path) -> None:
    (tree / "real").mkdir()
    (tree / "calls.py").rename(tree / "real" / "calls.py")
    (tree / "link.py").symlink_to(tree / "real" / "calls.py")
    result = run("--add-noqa", "link.py")
    assert result.exit_code == 1
    assert "link.py left alone: it is a symlink, which is never followed" in result.stderr
    assert (tree / "link.py").is_symlink()
    assert (tree / "real" / "calls.py").read_bytes() == (FIXTURES / "calls.py").read_bytes()


def test_the_file_keeps_its_permissions(tree: Path) -> None:
    os.chmod(tree / "bom.py", 0o751)
    run("--add-noqa", "bom.py")
    assert (tree / "bom.py").stat().st_mode & 0o777 == 0o751
    assert [p.name for p in tree.iterdir() if p.name.endswith(".tmp")] == []


def test_an_encoding_that_would_not_round_trip_is_left_alone(tree: Path) -> None:
    # UTF-7 has several spellings of one text: re-encoding could change bytes nobody touched.
    (tree / "seven.py").write_bytes(b"# coding: utf-7\ndef name(x):\n    return +AGE-\n")
    before = (tree / "seven.py").read_bytes()
    result = run("--add-noqa", "seven.py")
    assert "seven.py left alone: re-encoding it as utf-7 would change other bytes" in (
        result.stderr
    )
    assert (tree / "seven.py").read_bytes() == before


def test_add_noqa_and_write_baseline_refuse_each_other(tree: Path) -> None:
    result = run("--add-noqa", "--write-baseline", "b.json", ".")
    assert result.exit_code == 2
    assert "--add-noqa and --write-baseline" in result.stderr


def test_an_unused_noqa_gets_pa004_added_and_then_counts_as_kept(tree: Path) -> None:
    unused = (Path(__file__).parent / "fixtures" / "suppress" / "unused.py").read_bytes()
    (tree / "unused.py").write_bytes(unused)
    assert "PA004" in run("--format", "concise", "unused.py").stdout
    assert run("--add-noqa", "unused.py").exit_code == 0
    assert run("unused.py").exit_code == 0
    lines = (tree / "unused.py").read_text(encoding="utf-8").splitlines()
    assert lines[14] == "    time.sleep(1)  # noqa: PA401, PA004"
    assert lines[16] == "    height = 2  # noqa: PA999, E501, PA004"

"""The terminal formats: ruff's full shape (source, context, carets, brackets for spans over
several lines, tabs and wide characters aligned), `concise`, and the progress line."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import excerpts

from pyarch_lint.cli import main
from pyarch_lint.config import Settings
from pyarch_lint.discovery import discover
from pyarch_lint.engine import run
from pyarch_lint.findings import Finding, Severity
from pyarch_lint.progress import ProgressLine, progress_line
from pyarch_lint.report import Outcome
from pyarch_lint.report.text import render

ASYNC_SLEEP = """\
import time


async def handler(delay: float) -> None:
    time.sleep(
        delay,
    )
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return tmp_path


def lint(*args: str) -> Result:
    return CliRunner().invoke(main, ["--no-llm", "--no-cache", "--jobs", "1", *args])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def finding(path: Path, line: int, column: int, end_line: int, end_column: int) -> Finding:
    return Finding(
        str(path), line, column, end_line, end_column, "PA999", "x", Severity.WARNING, "message"
    )


def shown(*findings: Finding) -> list[str]:
    outcome = Outcome(list(findings), [], [], 1, 1, 0, excerpts=excerpts(findings))
    return render(outcome).splitlines()


def test_one_line_span_with_two_lines_of_context_either_side(folder: Path) -> None:
    write(folder / "app.py", "a = 1\nb = 2\nc = 3\ntry:\n    d()\nexcept:\n    pass\ne = 5\n")
    result = lint("--select", "PA301", "app.py")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "app.py:6:1: PA301 Bare `except:` also catches KeyboardInterrupt and SystemExit; "
        "name the exceptions you expect",
        "  |",
        "4 | try:",
        "5 |     d()",
        "6 | except:",
        "  | ^^^^^^^",
        "7 |     pass",
        "8 | e = 5",
        "  |",
        "",
    ]


def test_span_over_several_lines_is_bracketed_like_ruff(folder: Path) -> None:
    write(folder / "app.py", ASYNC_SLEEP)
    result = lint("--select", "PA401", "app.py")
    assert result.stdout.splitlines()[1:] == [
        "  |",
        "3 |",
        "4 |   async def handler(delay: float) -> None:",
        "5 | /     time.sleep(",
        "6 | |         delay,",
        "7 | |     )",
        "  | |_____^",
        "",
    ]


def test_span_starting_mid_line_gets_an_underline_to_its_start(tmp_path: Path) -> None:
    path = write(tmp_path / "m.py", "def f(a=[\n    1,\n    2]):\n    return a\n")
    assert shown(finding(path, 1, 9, 3, 7))[1:] == [
        "  |",
        "1 |   def f(a=[",
        "  |  _________^",
        "2 | |     1,",
        "3 | |     2]):",
        "  | |______^",
        "4 |       return a",
        "  |",
        "",
    ]


def test_tabs_expand_to_stops_of_four_and_the_caret_follows(folder: Path) -> None:
    write(folder / "app.py", "def f() -> None:\n\ttry:\n\t\tg()\n\texcept:\n\t\tpass\n")
    lines = lint("--select", "PA301", "app.py").stdout.splitlines()
    assert lines[0].startswith("app.py:4:2: PA301 ")  # columns count characters, as ruff's do
    assert "4 |     except:" in lines
    assert lines[lines.index("4 |     except:") + 1] == "  |     ^^^^^^^"


def test_wide_characters_take_two_cells_and_the_caret_stays_under_the_span(folder: Path) -> None:
    write(folder / "app.py", 'async def f() -> None:\n    name = "日本語"; open(name)\n')
    lines = lint("--select", "PA402", "app.py").stdout.splitlines()
    assert lines[0].startswith("app.py:2:19: PA402 ")
    source = '2 |     name = "日本語"; open(name)'
    carets = lines[lines.index(source) + 1]
    assert carets == "  |" + " " * 22 + "^" * len("open(name)")  # 日本語: 6 cells


def test_control_and_bidi_characters_are_shown_escaped(tmp_path: Path) -> None:
    path = write(tmp_path / "c.py", 'x = "\u202e"; y = 1\x1b[2J\n')
    lines = shown(finding(path, 1, 10, 1, 15))
    assert lines[2] == '1 | x = "\\u202e"; y = 1\\x1b[2J'
    assert lines[3] == "  |" + " " * 15 + "^^^^^"  # after the 6-cell escape, not 1 cell


def test_a_long_span_shows_its_head_and_its_tail(tmp_path: Path) -> None:
    path = write(tmp_path / "long.py", "data = [\n" + "    1,\n" * 30 + "]\n")
    lines = shown(finding(path, 1, 1, 32, 2))
    assert "...  |" in lines
    assert len(lines) < 16
    assert lines[-3:] == ["32 | | ]", "   | |_^", ""]


def test_context_stops_at_the_ends_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "one.py", "x = 1\n")
    assert shown(finding(path, 1, 1, 1, 2)) == [
        f"{path}:1:1: PA999 message",
        "  |",
        "1 | x = 1",
        "  | ^",
        "",
    ]


def test_concise_is_one_line_per_finding(folder: Path) -> None:
    write(folder / "app.py", "try:\n    d()\nexcept:\n    pass\n")
    result = lint("--format", "concise", "--select", "PA3", "app.py")
    lines = result.stdout.splitlines()
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["app.py:3:1:", "PA301"],
        ["app.py:3:1:", "PA302"],
    ]


# -- progress ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_silent_for_the_first_second_then_counts_and_is_erased() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = ProgressLine(stream, clock)
    progress(1, 10)
    clock.now += 0.5
    progress(2, 10)
    assert stream.getvalue() == ""
    clock.now += 0.6
    progress(3, 10)
    assert stream.getvalue() == "\r\x1b[Kpyarch-lint: 3/10 files"
    clock.now += 0.01
    progress(4, 10)  # too soon to redraw
    progress(10, 10)  # but the last count is always drawn
    assert stream.getvalue().endswith("\r\x1b[Kpyarch-lint: 10/10 files")
    assert "4/10" not in stream.getvalue()
    progress.finish()
    assert stream.getvalue().endswith("files\r\x1b[K")


def test_progress_that_never_drew_erases_nothing() -> None:
    stream = io.StringIO()
    progress = ProgressLine(stream, Clock())
    progress(10, 10)
    progress.finish()
    assert stream.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_never_when_quiet() -> None:
    assert progress_line(io.StringIO(), quiet=False) is None
    assert progress_line(Terminal(), quiet=True) is None
    assert isinstance(progress_line(Terminal(), quiet=False), ProgressLine)


@pytest.mark.parametrize("jobs", [1, 2])
def test_engine_reports_every_file_done_in_order(tmp_path: Path, jobs: int) -> None:
    for number in range(5):
        write(tmp_path / f"m{number}.py", f"x = {number}\n")
    settings = Settings.default()
    files = discover([tmp_path], settings, cwd=tmp_path)
    calls: list[tuple[int, int]] = []
    run(files, settings, jobs, None, lambda done, total: calls.append((done, total)))
    assert calls == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def _stderr_on(terminal: bool, args: list[str], cwd: Path) -> str:
    """Run the CLI with progress drawn at once (DELAY = 0) and stderr on a pseudo-terminal or
    a pipe; return stderr."""
    code = (
        "import sys, pyarch_lint.progress as p; p.DELAY = 0.0; "
        "from pyarch_lint.cli import main; sys.argv[0] = 'pyarch-lint'; main()"
    )
    command = [sys.executable, "-c", code, "--no-llm", "--no-cache", "--jobs", "1", *args]
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    if not terminal:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
        return done.stderr.decode()
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    process.wait(timeout=120)
    return b"".join(chunks).decode()


def test_progress_shows_on_a_real_terminal_only(tmp_path: Path) -> None:
    for number in range(3):
        write(tmp_path / f"m{number}.py", f"x = {number}\n")
    on_terminal = _stderr_on(True, ["."], tmp_path)
    assert "pyarch-lint: 3/3 files" in on_terminal
    assert "\r\x1b[K" in on_terminal  # erased before the summary
    assert "All checks passed" in on_terminal
    assert "files\r" not in _stderr_on(True, ["-q", "."], tmp_path)
    piped = _stderr_on(False, ["."], tmp_path)
    assert "3/3" not in piped
    assert piped == "All checks passed: 3 files, no findings.\n"

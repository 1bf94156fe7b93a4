"""Text for people: ruff's shape, `path:line:col: CODE message`, sorted, with the source line
and a caret under the span (or one line per finding with `concise`), then the critiques."""

from __future__ import annotations

import functools
import io
import os
import sys
import tokenize
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import click

from pyarch_lint.files import read_regular, split_lines
from pyarch_lint.findings import Critique, Finding, Severity
from pyarch_lint.report import Outcome, one_line

_COLOUR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_CONTEXT = 2  # source lines shown before and after the reported ones, as ruff does
_TAB = 4
_MAX_SPAN_LINES = 8


def use_colour() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _style(text: str, colour: bool, **style: object) -> str:
    return click.style(text, **style) if colour else text  # type: ignore[arg-type]


def _headline(f: Finding, colour: bool) -> str:
    where = _style(f"{one_line(f.path)}:{f.line}:{f.column}:", colour, bold=True)
    code = _style(f.code, colour, fg=_COLOUR[f.severity], bold=True)
    return f"{where} {code} {one_line(f.message)}"


def source_lines(path: str) -> tuple[str, ...]:
    """The file's lines as the engine numbered them: same decoding, same line breaks."""
    try:
        info = os.stat(path)
    except OSError:
        return ()
    return _read_lines(os.path.abspath(path), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=64)
def _read_lines(path: str, _mtime_ns: int, _size: int) -> tuple[str, ...]:
    """Cached by where the file is and its version: several findings share one file."""
    try:
        data = read_regular(Path(path))  # it could have become a FIFO since it was analysed
    except OSError:
        return ()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding, "replace")
    except (SyntaxError, LookupError):
        text = data.decode("utf-8", "replace")
    lines = split_lines(text)
    if lines and not lines[-1]:  # the "line" after the final line break is not shown
        lines.pop()
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class _Cells:
    """A source line as a terminal shows it, and where each character starts on screen."""

    text: str
    starts: tuple[int, ...]  # display offset of each character, then of the line's end

    def at(self, column: int) -> int:
        """Display offset of 1-based `column`; past the end means the end."""
        return self.starts[min(max(column, 1), len(self.starts)) - 1]


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _cells(line: str) -> _Cells:
    """Tabs expanded to stops of 4 (as ruff shows them), wide characters two cells, control and
    format characters (bidi overrides included) escaped so the line cannot fool the reader."""
    parts: list[str] = []
    starts: list[int] = []
    width = 0
    for char in line:
        starts.append(width)
        if char == "\t":
            shown = " " * (_TAB - width % _TAB)
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            shown = f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
        else:
            shown = char
        parts.append(shown)
        width += len(shown) if shown != char else _char_width(char)
    starts.append(width)
    return _Cells("".join(parts).rstrip(), tuple(starts))


@dataclass(frozen=True, slots=True)
class _Window:
    """The lines shown for one finding, and where its span ends in them."""

    finding: Finding
    cells: dict[int, _Cells]  # line number -> that line as shown
    first: int  # first line shown (context included)
    end_line: int  # last line of the span
    last: int  # last line shown
    end_column: int  # 1-based, exclusive, on end_line
    colour: bool

    @property
    def width(self) -> int:
        return len(str(self.last))

    def gutter(self) -> str:
        return _style(" " * self.width + " |", self.colour, fg="blue", bold=True)

    def paint(self, text: str) -> str:
        return _style(text, self.colour, fg=_COLOUR[self.finding.severity], bold=True)

    def numbered(self, number: int, mark: str | None = None) -> str:
        head = _style(f"{number:>{self.width}} |", self.colour, fg="blue", bold=True)
        text = self.cells[number].text
        return f"{head} {text if mark is None else f'{mark} {text}'}".rstrip()


def _window(f: Finding, lines: Sequence[str], colour: bool) -> _Window:
    end_line, end_column = min(max(f.end_line, f.line), len(lines)), f.end_column
    if end_line > f.line and end_column <= 1:  # a span that ends right after a line break
        end_line -= 1
        end_column = len(lines[end_line - 1]) + 1
    first, last = max(1, f.line - _CONTEXT), min(len(lines), end_line + _CONTEXT)
    cells = {n: _cells(lines[n - 1]) for n in range(first, last + 1)}
    return _Window(f, cells, first, end_line, last, end_column, colour)


def _snippet(f: Finding, colour: bool) -> Iterator[str]:
    """ruff's full output: the reported lines with two lines of context either side, carets
    under a one-line span, and a bracket down the left of a span over several lines."""
    lines = source_lines(f.path)
    if f.code == "PA002" or not 0 < f.line <= len(lines):
        return
    window = _window(f, lines, colour)
    yield window.gutter()
    if window.end_line == f.line:
        start = window.cells[f.line].at(f.column)
        carets = "^" * max(1, window.cells[f.line].at(window.end_column) - start)
        for number in range(window.first, window.last + 1):
            yield window.numbered(number)
            if number == f.line:
                yield f"{window.gutter()} {' ' * start}{window.paint(carets)}"
    else:
        yield from _bracketed(window)
    if window.last > window.end_line:
        yield window.gutter()
    yield ""


def _bracketed(window: _Window) -> Iterator[str]:
    """A span over several lines, drawn as ruff draws it:

    3 | /     try:            or   1 |   f(a=[
    4 | |         g()                |  _____^
      | |_________^                2 | |   1])
                                     | |____^
    """
    f, cells, end_line, paint = window.finding, window.cells, window.end_line, window.paint
    start = cells[f.line].at(f.column)
    slash = start <= len(cells[f.line].text) - len(cells[f.line].text.lstrip())
    shown = list(range(window.first, window.last + 1))
    if end_line - f.line + 1 > _MAX_SPAN_LINES:  # keep the head and the tail of a long span
        keep = _MAX_SPAN_LINES // 2
        shown = [n for n in shown if n < f.line + keep or n > end_line - keep]
    previous = window.first - 1
    for number in shown:
        if number != previous + 1:
            yield f"{'...':<{window.width + 3}}{paint('|')}"
        previous = number
        if number == f.line:
            yield window.numbered(number, paint("/") if slash else " ")
            if not slash:
                yield f"{window.gutter()}  {paint('_' * (start + 1) + '^')}"
        else:
            yield window.numbered(number, paint("|") if f.line < number <= end_line else " ")
        if number == end_line:
            last_char = cells[end_line].at(window.end_column - 1)
            yield f"{window.gutter()} {paint('|' + '_' * (last_char + 1) + '^')}"


def _critique_lines(critique: Critique, colour: bool) -> Iterator[str]:
    head = _style(f"{one_line(critique.path)}: architecture review", colour, bold=True)
    cached = " (cached)" if critique.cached else ""
    yield f"{head} by {one_line(critique.model)}{cached}"
    yield f"  {one_line(critique.summary)}"
    if critique.note:
        yield f"  note: {one_line(critique.note)}"
    for item in critique.items:
        lines = f"{item.line}" if item.end_line == item.line else f"{item.line}-{item.end_line}"
        label = _style(item.severity.label, colour, fg=_COLOUR[item.severity])
        yield f"  {one_line(critique.path)}:{lines}: {label} [{one_line(item.principle)}]"
        yield f"    {one_line(item.problem)}"
        yield f"    suggestion: {one_line(item.suggestion)}"


def _render(outcome: Outcome, full: bool) -> str:
    colour = use_colour()
    critiques = {c.path: c for c in outcome.critiques}
    out: list[str] = []
    shown: set[str] = set()
    for path, group in groupby(outcome.findings, key=lambda f: f.path):
        for finding in group:
            out.append(_headline(finding, colour))
            if full:
                out.extend(_snippet(finding, colour))
        if path in critiques:
            out.extend(_critique_lines(critiques[path], colour))
            shown.add(path)
    for critique in outcome.critiques:
        if critique.path not in shown:
            out.extend(_critique_lines(critique, colour))
    for skipped in outcome.not_reviewed:
        out.append(f"{one_line(skipped.path)}: not reviewed: {one_line(skipped.reason)}")
    return "".join(line + "\n" for line in out)


def render(outcome: Outcome) -> str:
    return _render(outcome, full=True)


def render_concise(outcome: Outcome) -> str:
    return _render(outcome, full=False)


def summary_line(outcome: Outcome) -> str:
    if not outcome.findings:
        noun = "file" if outcome.files == 1 else "files"
        return f"All checks passed: {outcome.files} {noun}, no findings."
    files = len({f.path for f in outcome.findings})
    plural = "finding" if len(outcome.findings) == 1 else "findings"
    return f"Found {len(outcome.findings)} {plural} in {files} of {outcome.files} files."

"""Text for people: ruff's shape, `path:line:col: CODE message`, sorted, with the source line
and a caret under the span (or one line per finding with `concise`), then the critiques. The
source lines are those analysis kept with the findings (`Outcome.excerpts`)."""

from __future__ import annotations

import functools
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from typing import Any

import click

from pyarch_lint.excerpt import CONTEXT, MAX_SPAN_LINES, NO_EXCERPT, Excerpt
from pyarch_lint.findings import Applicability, Critique, Finding, Severity
from pyarch_lint.report import Outcome, char_width, counted, one_line

_COLOUR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_TAB = 4


def use_colour() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@dataclass(frozen=True, slots=True)
class _Style:
    """A click style as the text that goes before and after what it styles (none without
    colour): click.style costs a microsecond a call, and a large result styles a million pieces."""

    before: str = ""
    after: str = ""

    def __call__(self, text: str) -> str:
        return f"{self.before}{text}{self.after}"


def _style(colour: bool, **style: Any) -> _Style:
    if not colour:
        return _Style()
    before, _, after = click.style("\0", **style).partition("\0")
    return _Style(before, after)


@dataclass(frozen=True, slots=True)
class _Palette:
    """Every style text output uses, made once per report."""

    bold: _Style
    gutter: _Style
    severity: Mapping[Severity, _Style]  # codes, carets and brackets
    label: Mapping[Severity, _Style]  # severities of a critique's items


@functools.cache  # the same two palettes for every report
def _palette(colour: bool) -> _Palette:
    return _Palette(
        bold=_style(colour, bold=True),
        gutter=_style(colour, fg="blue", bold=True),
        severity={s: _style(colour, fg=_COLOUR[s], bold=True) for s in Severity},
        label={s: _style(colour, fg=_COLOUR[s]) for s in Severity},
    )


def _headline(f: Finding, where: str, palette: _Palette, fixable: bool) -> str:
    """`where` is the finding's path as shown, made once for all the findings in its file;
    `[*]` after the code marks what `--fix` fixes, as ruff marks it."""
    place = palette.bold(f"{where}:{f.line}:{f.column}:")
    mark = " [*]" if fixable else ""
    return f"{place} {palette.severity[f.severity](f.code)}{mark} {one_line(f.message)}"


@dataclass(frozen=True, slots=True)
class _Cells:
    """A source line as a terminal shows it, and where each character starts on screen."""

    text: str
    starts: Sequence[int]  # display offset of each character, then of the line's end

    def at(self, column: int) -> int:
        """Display offset of 1-based `column`; past the end means the end."""
        return self.starts[min(max(column, 1), len(self.starts)) - 1]


def _plain(line: str) -> bool:
    """Printable ASCII, as most lines are: one cell per character, each shown as it is."""
    return line.isascii() and line.isprintable()


def _shown(line: str) -> str:
    """The line as `_cells` shows it, without working out where each of its characters lands."""
    return line.rstrip() if _plain(line) else _cells(line).text


def _cells(line: str) -> _Cells:
    """Tabs expanded to stops of 4 (as ruff shows them), wide characters two cells, control and
    format characters (bidi overrides included) escaped so the line cannot fool the reader."""
    if _plain(line):
        return _Cells(line.rstrip(), range(len(line) + 1))
    parts: list[str] = []
    starts: list[int] = []
    width = 0
    for char in line:
        starts.append(width)
        if char == "\t":
            shown = " " * (_TAB - width % _TAB)
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            shown = f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
        else:
            shown = char
        parts.append(shown)
        width += len(shown) if shown != char else char_width(char)
    starts.append(width)
    return _Cells("".join(parts).rstrip(), tuple(starts))


@dataclass(frozen=True, slots=True)
class _Around:
    """What a snippet shows around the carets under a one-line span on some line."""

    cells: _Cells  # the line itself
    above: str  # the gutter, the context above and the line, as rows of the report
    gutter: str  # the gutter before the carets
    below: str  # the context below, then the gutter and the blank row that end a snippet


@dataclass(frozen=True, slots=True)
class _Source:
    """One file's lines as its snippets show them."""

    excerpt: Excerpt
    palette: _Palette
    # Line -> what one-line spans there show around their carets: drawn once for all of them
    # (a def and each of its parameters, say), the work of most of a large report.
    arounds: dict[int, _Around] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.excerpt.line_count

    def cells(self, number: int) -> _Cells:
        return _cells(self.excerpt.text(number))

    def numbered(self, number: int, width: int, mark: str | None = None) -> str:
        """Line `number` behind a gutter `width` digits wide, and `mark` before it if any."""
        gutter, text = self.palette.gutter, _shown(self.excerpt.text(number))
        if mark is not None:
            text = f"{mark} {text}"
        return f"{gutter.before}{number:>{width}} |{gutter.after} {text}".rstrip()

    def gutter(self, width: int) -> str:
        return self.palette.gutter(" " * width + " |")

    def around(self, number: int) -> _Around:
        around = self.arounds.get(number)
        if around is None:
            first, last = max(1, number - CONTEXT), min(self.count, number + CONTEXT)
            width = len(str(last))
            gutter = self.gutter(width)
            above = [gutter, *(self.numbered(n, width) for n in range(first, number + 1))]
            below = [self.numbered(n, width) for n in range(number + 1, last + 1)]
            below += [gutter, ""] if last > number else [""]
            cells = self.cells(number)
            around = _Around(cells, "\n".join(above), gutter, "\n".join(below))
            self.arounds[number] = around
        return around


def _snippet(f: Finding, source: _Source) -> list[str]:
    """ruff's full output, as rows of the report: the reported lines with two lines of context
    either side, carets under a one-line span, and a bracket down the left of a span over
    several lines."""
    count = source.count
    if f.code == "PA002" or not 0 < f.line <= count:
        return []
    end_line, end_column = min(max(f.end_line, f.line), count), f.end_column
    if end_line > f.line and end_column <= 1:  # a span that ends right after a line break
        end_line -= 1
        end_column = len(source.excerpt.text(end_line)) + 1
    if end_line > f.line:
        return list(_bracketed(_Window(f, source, end_line, end_column)))
    around = source.around(f.line)
    start = around.cells.at(f.column)
    carets = source.palette.severity[f.severity]("^" * max(1, around.cells.at(end_column) - start))
    return [around.above, f"{around.gutter} {' ' * start}{carets}", around.below]


@dataclass(frozen=True, slots=True)
class _Window:
    """The lines shown for a span over several lines, and where the span ends in them."""

    finding: Finding
    source: _Source
    end_line: int  # last line of the span
    end_column: int  # 1-based, exclusive, on end_line

    @property
    def first(self) -> int:  # first line shown (context included)
        return max(1, self.finding.line - CONTEXT)

    @property
    def last(self) -> int:  # last line shown
        return min(self.source.count, self.end_line + CONTEXT)

    @property
    def width(self) -> int:  # of the line numbers
        return len(str(self.last))

    def gutter(self) -> str:
        return self.source.gutter(self.width)

    def paint(self, text: str) -> str:
        return self.source.palette.severity[self.finding.severity](text)

    def numbered(self, number: int, mark: str | None = None) -> str:
        return self.source.numbered(number, self.width, mark)


def _bracketed(window: _Window) -> Iterator[str]:
    """A span over several lines, drawn as ruff draws it:

    3 | /     try:            or   1 |   f(a=[
    4 | |         g()                |  _____^
      | |_________^                2 | |   1])
                                     | |____^
    """
    f, end_line, paint, gutter = window.finding, window.end_line, window.paint, window.gutter()
    head = window.source.cells(f.line)
    start = head.at(f.column)
    slash = start <= len(head.text) - len(head.text.lstrip())
    shown = list(range(window.first, window.last + 1))
    if end_line - f.line + 1 > MAX_SPAN_LINES:  # keep the head and the tail of a long span
        keep = MAX_SPAN_LINES // 2
        shown = [n for n in shown if n < f.line + keep or n > end_line - keep]
    yield gutter
    previous = window.first - 1
    for number in shown:
        if number != previous + 1:
            yield f"{'...':<{window.width + 3}}{paint('|')}"
        previous = number
        if number == f.line:
            yield window.numbered(number, paint("/") if slash else " ")
            if not slash:
                yield f"{gutter}  {paint('_' * (start + 1) + '^')}"
        else:
            yield window.numbered(number, paint("|") if f.line < number <= end_line else " ")
        if number == end_line:
            last_char = window.source.cells(end_line).at(window.end_column - 1)
            yield f"{gutter} {paint('|' + '_' * (last_char + 1) + '^')}"
    if window.last > end_line:
        yield gutter
    yield ""


def _critique_lines(critique: Critique, palette: _Palette) -> Iterator[str]:
    head = palette.bold(f"{one_line(critique.path)}: architecture review")
    cached = " (cached)" if critique.cached else ""
    yield f"{head} by {one_line(critique.model)}{cached}"
    yield f"  {one_line(critique.summary)}"
    if critique.note:
        yield f"  note: {one_line(critique.note)}"
    for item in critique.items:
        lines = f"{item.line}" if item.end_line == item.line else f"{item.line}-{item.end_line}"
        label = palette.label[item.severity](item.severity.label)
        yield f"  {one_line(critique.path)}:{lines}: {label} [{one_line(item.principle)}]"
        yield f"    {one_line(item.problem)}"
        yield f"    suggestion: {one_line(item.suggestion)}"
    for label, points in (
        ("trade-off", critique.trade_offs),
        ("testing", critique.testing),
        ("monitoring", critique.monitoring),
    ):
        yield from (f"  {label}: {one_line(point)}" for point in points)


def _render(outcome: Outcome, full: bool) -> str:
    palette = _palette(use_colour())
    critiques = {c.path: c for c in outcome.critiques}
    out: list[str] = []
    shown: set[str] = set()
    for path, group in groupby(outcome.findings, key=attrgetter("path")):
        where = one_line(path)
        source = _Source(outcome.excerpts.get(path, NO_EXCERPT) if full else NO_EXCERPT, palette)
        for finding in group:
            out.append(_headline(finding, where, palette, outcome.fixable(finding)))
            if full:
                out.extend(_snippet(finding, source))
        if path in critiques:
            out.extend(_critique_lines(critiques[path], palette))
            shown.add(path)
    for critique in outcome.critiques:
        if critique.path not in shown:
            out.extend(_critique_lines(critique, palette))
    for skipped in outcome.not_reviewed:
        out.append(f"{one_line(skipped.path)}: not reviewed: {one_line(skipped.reason)}")
    if out:
        out.append("")  # so that the last line too ends with a line break
    return "\n".join(out)


def render(outcome: Outcome) -> str:
    return _render(outcome, full=True)


def render_concise(outcome: Outcome) -> str:
    return _render(outcome, full=False)


# How the summary names a number of findings of one severity.
_NOUNS = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.INFO: ("info", "info"),
}


def summary_line(outcome: Outcome) -> str:
    """`Found 12 findings (2 errors, 7 warnings, 3 info) in 4 of 20 files.`, or `Found 1 error
    in 1 file.`, or `All checks passed: 20 files, no findings.`, and how many the baseline hid."""
    hidden = f" ({outcome.baselined} hidden by the baseline)" if outcome.baselined else ""
    if not outcome.findings:
        if not outcome.files:
            return f"No files to check{hidden}."
        return f"All checks passed: {counted(outcome.files, 'file')}, no findings{hidden}."
    by_severity = Counter(f.severity for f in outcome.findings)
    counts = [
        counted(by_severity[severity], *_NOUNS[severity])
        for severity in sorted(by_severity, reverse=True)
    ]
    if len(counts) > 1:
        found = f"{counted(len(outcome.findings), 'finding')} ({', '.join(counts)})"
    elif Severity.INFO in by_severity:
        found = counted(len(outcome.findings), "info finding")
    else:
        found = counts[0]
    files = len({f.path for f in outcome.findings})
    where = (
        counted(files, "file") if files == outcome.files else f"{files} of {outcome.files} files"
    )
    return f"Found {found} in {where}{hidden}."


def fix_line(outcome: Outcome) -> str | None:
    """`[*] 3 fixable with --fix (2 more with --unsafe-fixes).`, or None when nothing is."""
    fixable = sum(1 for f in outcome.findings if outcome.fixable(f))
    hidden = 0
    if not outcome.unsafe_fixes:
        hidden = sum(1 for f in outcome.findings if f.fix is Applicability.UNSAFE)
    if not fixable and not hidden:
        return None
    if not fixable:
        return f"{counted(hidden, 'fix', 'fixes')} available with --unsafe-fixes."
    more = f" ({hidden} more with --unsafe-fixes)" if hidden else ""
    flags = "--fix --unsafe-fixes" if outcome.unsafe_fixes else "--fix"
    return f"[*] {fixable} fixable with {flags}{more}."

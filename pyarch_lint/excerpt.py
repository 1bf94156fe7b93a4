"""What the reports show of a file, taken while the file is at hand in the worker: the lines
around each finding (code frames, baseline and GitLab fingerprints) and the def or class each
reported line sits in. Reports then only render; no file is read again after the run.

The def/class around a line is what CPython's own parser says: the stdlib `ast` tree analysis
already built, its defs' and classes' line spans bisected. A file CPython does not parse has
no scopes: every line is at module level.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from pyarch_lint.files import split_lines

if TYPE_CHECKING:  # findings.py holds an Excerpt: a runtime import would be circular
    from pyarch_lint.findings import RawFinding

CONTEXT = 2  # lines shown before and after the reported ones, as ruff does
MAX_SPAN_LINES = 8  # a longer span shows only its first and last half of this


class Excerpt(NamedTuple):
    """The lines of one file that its findings' reports need, numbered as analysis numbered
    them, and the scope of each reported line. A named tuple: a warm run rebuilds one per file."""

    line_count: int  # the file's lines (the empty "line" after a final line break not counted)
    lines: Mapping[int, str]  # line number -> its text, for the lines a report can show
    scopes: Mapping[int, str]  # reported line -> dotted def/class names around it ("": module)

    def text(self, number: int) -> str:
        """Line `number`'s text; "" for a line the file does not have."""
        return self.lines.get(number, "")

    def scope(self, number: int) -> str:
        return self.scopes.get(number, "")


NO_EXCERPT = Excerpt(0, {}, {})


# -- scopes ------------------------------------------------------------------------------------

Span = tuple[int, int, str]
"""A def or class: its first line (the `def`/`class` keyword's), its last, its dotted name."""

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# The statements that hold others (def, class, if, for, while, with, try, match), as this
# Python's `ast` declares them: most statements hold none, and need not be looked into.
COMPOUND = tuple(
    kind for kind in ast.stmt.__subclasses__() if "body" in kind._fields or "cases" in kind._fields
)


def def_spans(tree: ast.Module | None) -> list[Span]:
    """Every def and class, in order of their first line. Only statement lists are followed: a
    def or class is always a statement, and the expressions, most of a tree, need not be visited."""
    if tree is None:
        return []
    found: list[Span] = []
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in statements_in(node):
            name = prefix
            if isinstance(child, _DEFS):
                name = f"{prefix}.{child.name}" if prefix else child.name
                end = child.end_lineno if child.end_lineno is not None else child.lineno
                found.append((child.lineno, end, name))
            if isinstance(child, COMPOUND):
                stack.append((child, name))
    return sorted(found)


def statements_in(node: ast.AST) -> list[ast.stmt]:
    """The statements directly in `node`'s blocks (body, else, finally, handlers, cases)."""
    statements: list[ast.stmt] = []
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if isinstance(block, list):
            statements.extend(block)
    for clause in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
        statements.extend(clause.body)
    return statements


@dataclass(frozen=True, slots=True)
class Scopes:
    """The defs and classes of one file, in order of their first line."""

    starts: list[int]
    ends: list[int]
    names: list[str]
    parents: list[int]  # index of the innermost span around each, -1 at module level

    def at(self, line: int) -> str:
        """The innermost scope around `line`: the last one that starts at or before it, or the
        nearest of its parents that has not ended yet."""
        index = bisect_right(self.starts, line) - 1
        while index >= 0 and self.ends[index] < line:
            index = self.parents[index]
        return self.names[index] if index >= 0 else ""


def scopes_of(spans: Sequence[Span]) -> Scopes:
    parents: list[int] = []
    around: list[int] = []
    for index, (first, _last, _name) in enumerate(spans):
        while around and spans[around[-1]][1] < first:
            around.pop()
        parents.append(around[-1] if around else -1)
        around.append(index)
    firsts = [first for first, _last, _name in spans]
    lasts = [last for _first, last, _name in spans]
    return Scopes(firsts, lasts, [name for _first, _last, name in spans], parents)


# -- the excerpt of a file ---------------------------------------------------------------------


def shown_lines(line: int, end_line: int, end_column: int, count: int) -> Iterator[int]:
    """The lines a code frame shows for a finding in a file of `count` lines: the reported ones
    with CONTEXT lines either side, only the head and the tail of a span over more than
    MAX_SPAN_LINES lines. None for a finding outside the file."""
    if not 0 < line <= count:
        return
    end = min(max(end_line, line), count)
    if end > line and end_column <= 1:  # a span that ends right after a line break
        end -= 1
    first, last = max(1, line - CONTEXT), min(count, end + CONTEXT)
    keep = MAX_SPAN_LINES // 2
    long = end - line + 1 > MAX_SPAN_LINES
    for number in range(first, last + 1):
        if not long or number < line + keep or number > end - keep:
            yield number


def excerpt_of(
    lines: Sequence[str], tree: ast.Module | None, found: Iterable[RawFinding]
) -> Excerpt:
    """The excerpt for findings in a file of `lines` (as `split_lines` gives them) whose `ast`
    tree is `tree` (None if CPython does not parse it)."""
    count = len(lines) - 1 if lines and not lines[-1] else len(lines)
    kept: dict[int, str] = {}
    reported: set[int] = set()
    for line, _column, end_line, end_column, code, _message in found:
        reported.add(line)
        if 0 < line <= count:
            kept[line] = lines[line - 1]  # fingerprints need it, even where no frame is shown
        if code != "PA002":  # bytes that do not decode are not shown
            for number in shown_lines(line, end_line, end_column, count):
                kept[number] = lines[number - 1]
    if not reported:
        return NO_EXCERPT
    scopes = scopes_of(def_spans(tree))
    return Excerpt(count, kept, {line: scopes.at(line) for line in sorted(reported)})


def lenient_text(source: bytes) -> str:
    """A file's text as its reports show it even when it does not decode: its declared encoding
    (UTF-8 when that is unknown or unreadable), a bad byte replaced."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(encoding, "replace")
    except (SyntaxError, LookupError, UnicodeError):  # idna, say, has no "replace"
        return source.decode("utf-8", "replace")


def excerpt_of_text(text: str, found: Sequence[RawFinding]) -> Excerpt:
    """The excerpt of findings made outside analysis (they came from the project phase, or
    analysis could not take the file apart): `text` is parsed again for the scopes."""
    if not found:
        return NO_EXCERPT
    lines = split_lines(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    return excerpt_of(lines, tree, found)


def excerpt_of_bytes(source: bytes, found: Sequence[RawFinding]) -> Excerpt:
    """The excerpt of a file analysis could not take apart (it does not decode, or analysing it
    failed)."""
    return excerpt_of_text(lenient_text(source), found) if found else NO_EXCERPT


def merged(first: Excerpt, second: Excerpt) -> Excerpt:
    """Both excerpts' lines and scopes (of the same file)."""
    if not second.scopes:
        return first
    if not first.scopes:
        return second
    return Excerpt(
        max(first.line_count, second.line_count),
        {**first.lines, **second.lines},
        {**first.scopes, **second.scopes},
    )


# -- as the cache stores it --------------------------------------------------------------------


def to_json(excerpt: Excerpt) -> list[Any]:
    """[count, [[first line, [its text, the next line's text, ...]], ...], [[line, scope], ...]]:
    consecutive lines in runs, so a frame costs one number and its texts."""
    runs: list[list[Any]] = []
    previous = -1
    for number in sorted(excerpt.lines):
        if number == previous + 1:
            runs[-1][1].append(excerpt.lines[number])
        else:
            runs.append([number, [excerpt.lines[number]]])
        previous = number
    return [excerpt.line_count, runs, [[line, scope] for line, scope in excerpt.scopes.items()]]


def from_json(data: Any, max_lines: int, max_length: int) -> Excerpt | None:
    """The excerpt `to_json` wrote, or None if `data` is not one for a file of at most
    `max_lines` lines of at most `max_length` characters each."""
    if type(data) is not list or len(data) != 3:
        return None
    count, runs, scoped = data
    if type(count) is not int or not 0 <= count <= max_lines:
        return None
    lines = _lines(runs, count, max_length)
    scopes = _scopes(scoped, max_lines)
    return None if lines is None or scopes is None else Excerpt(count, lines, scopes)


def _lines(runs: Any, count: int, max_length: int) -> dict[int, str] | None:
    if type(runs) is not list:
        return None
    lines: dict[int, str] = {}
    for run in runs:
        if type(run) is not list or len(run) != 2:
            return None
        first, texts = run
        if type(first) is not int or type(texts) is not list or first < 1:
            return None
        if first + len(texts) - 1 > count:
            return None
        for number, text in enumerate(texts, start=first):
            if type(text) is not str or len(text) > max_length:
                return None
            lines[number] = text
    return lines


def _scopes(scoped: Any, max_lines: int) -> dict[int, str] | None:
    if type(scoped) is not list:
        return None
    scopes: dict[int, str] = {}
    for pair in scoped:
        if type(pair) is not list or len(pair) != 2:
            return None
        line, scope = pair
        if type(line) is not int or type(scope) is not str or not 1 <= line <= max_lines:
            return None
        scopes[line] = scope
    return scopes

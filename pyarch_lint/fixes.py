"""Fixing findings: each fix a LibCST replacement of one node, applied pass by pass.

A rule reports a finding with a `Fix` (`checks.base`): a node of the module and what replaces it,
safe or not. PA004's fix drops the unused codes from its `# noqa` comment (the comment node is
replaced). One pass applies every wanted fix whose node shares no line with a fix taken before
it in the file, with one LibCST transformation that changes only the replaced nodes: every other
byte (comments, blank lines, line endings, the encoding) comes out as it went in. The result must
still compile (or, for syntax this Python does not know, still parse as the original did);
otherwise the fixes that break it alone are dropped with a note and the others applied. The
fixed source is analysed again, its new findings' fixes taken in the next pass, until no fix is
left (a fix that waited for an overlapping one is then made, or is no longer needed), for at
most `MAX_PASSES` passes. A second run then changes nothing.

Fixing always analyses the source it fixes: nothing here reads the cache, which keeps only which
findings have a fix (for `[*]`), never the fix itself.

    fix_source(source, path, settings, unsafe=False) -> FixResult   a whole file ("fix all")
    quick_fixes(source, path, settings) -> [QuickFix]              each fix alone, as an edit
"""

from __future__ import annotations

import difflib
import io
import tokenize
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, WhitespaceInclusivePositionProvider

from pyarch_lint.analysis import Examined, FindingFix, examine, visitors
from pyarch_lint.checks.base import Fix
from pyarch_lint.config import Settings
from pyarch_lint.engine import per_file_ignores, to_findings
from pyarch_lint.files import relative_to_root, split_lines
from pyarch_lint.findings import Applicability, Finding, RawFinding
from pyarch_lint.suppress import Unused, without_codes

# Passes over one file: each takes the fixes that do not overlap; fixes nested four deep (a
# sleep in a try in a def in a def) need four. A file still fixable after this many is noted.
MAX_PASSES = 10


@dataclass(frozen=True, slots=True)
class FixResult:
    """What fixing one file's source gave."""

    source: bytes  # the fixed source; the given bytes when nothing was fixed
    fixed: int  # findings fixed
    remaining: tuple[Finding, ...]  # the findings of the fixed source, as a check reports them
    notes: tuple[str, ...]  # fixes not made, and why

    def changed(self, before: bytes) -> bool:
        return self.source != before


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text from (line, column) to (end_line, end_column) with `text`: 1-based,
    columns in characters, the end exclusive, as findings count them."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True, slots=True)
class QuickFix:
    """One finding's fix on its own, as an editor applies it: edits of the source as it was,
    that do not overlap (the change, and an import it needs at the top)."""

    finding: Finding
    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]


class _NotFixable(Exception):
    """This source is left as it is; the message says why."""


def fix_source(source: bytes, path: str, settings: Settings, *, unsafe: bool = False) -> FixResult:
    """Apply the fixes of `source`'s findings, linted as the file `path` (its per-file-ignores
    apply), under `settings`: the safe ones, and the unsafe ones too with `unsafe`."""
    rules = visitors(settings)
    relative = relative_to_root(settings.root)(Path(path))
    notes: list[str] = []
    fixed = 0
    current = source
    seen = {source}
    for number in range(MAX_PASSES + 1):
        examined = examine(current, rules, settings, relative)
        wanted = _wanted(examined, path, relative, settings, unsafe)
        if not wanted:
            break
        if number == MAX_PASSES:
            notes.append(f"{path}: stopped after {MAX_PASSES} passes; {len(wanted)} fixes left")
            break
        try:
            text, encoding = _decoded(current)
            new_text, applied = _one_pass(examined, wanted, text, path, notes)
        except _NotFixable as reason:
            notes.append(f"{path}: not fixed: {reason}")
            break
        if not applied:
            break
        after = new_text.encode(encoding)
        if after in seen:  # two fixes undo each other: keep what the last pass had
            notes.append(f"{path}: fixes undo each other; stopped")
            break
        seen.add(after)
        current, fixed = after, fixed + applied
    remaining = _findings(examined, path, relative, settings)
    # A fix dropped in one pass is tried again in the next, if that pass makes others.
    return FixResult(current, fixed, tuple(remaining), tuple(dict.fromkeys(notes)))


def quick_fixes(
    source: bytes, path: str, settings: Settings, wanted: Collection[Finding] | None = None
) -> list[QuickFix]:
    """Each fixable finding of `source` (only those in `wanted`, when given) with its fix
    alone as an edit of `source`: what an editor offers on a diagnostic. A fix whose result
    would not compile is left out."""
    relative = relative_to_root(settings.root)(Path(path))
    examined = examine(source, visitors(settings), settings, relative)
    if examined.module is None:
        return []
    try:
        text, _ = _decoded(source)
    except _NotFixable:
        return []
    valid = _validator(text)
    positions = _positions(examined.module)
    quick: list[QuickFix] = []
    for finding, fix in _fixable(examined, path, relative, settings):
        if wanted is not None and finding not in wanted:
            continue
        made = _made(fix, text, positions)
        if made is None:
            continue
        after = _applied(examined.module, [made])
        if after == text or not valid(after):
            continue
        edits = [_edit(text, _applied(examined.module, [made], imports=False))]
        if made.imports:
            edits.append(_edit(text, _with_imports(examined.module, made.imports).code))
        assert finding.fix is not None  # a finding with a fix says how it applies
        quick.append(QuickFix(finding, made.title, finding.fix, tuple(sorted(edits, key=_at))))
    return quick


def _at(edit: Edit) -> tuple[int, int]:
    return edit.line, edit.column


def unified_diff(display: str, before: bytes, after: bytes) -> str:
    """The change as `diff -u` shows it, named `display` on both sides."""
    old, new = _lines_of(before), _lines_of(after)
    lines = difflib.unified_diff(old, new, fromfile=display, tofile=display)
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _lines_of(source: bytes) -> list[str]:
    try:
        text, _ = _decoded(source)
    except _NotFixable:
        text = source.decode("utf-8", "replace")
    return text.splitlines(keepends=True)


# -- what to fix --------------------------------------------------------------------------------


def _findings(examined: Examined, path: str, relative: str, settings: Settings) -> list[Finding]:
    """The findings a check reports for this analysis."""
    analysis = examined.analysis
    enabled = settings.enabled_codes()
    found = to_findings(path, analysis.findings, enabled, settings.rules, analysis.fixes)
    return per_file_ignores(found, settings, relative)


def _fixable(
    examined: Examined, path: str, relative: str, settings: Settings
) -> Iterator[tuple[Finding, FindingFix]]:
    """The reported findings that have a fix, with it, in the file's order."""
    for finding in _findings(examined, path, relative, settings):
        if finding.fix is not None:
            raw: RawFinding = (
                finding.line,
                finding.column,
                finding.end_line,
                finding.end_column,
                finding.code,
                finding.message,
            )
            fix = examined.fixes.get(raw)
            if fix is not None:
                yield finding, fix


def _wanted(
    examined: Examined, path: str, relative: str, settings: Settings, unsafe: bool
) -> list[tuple[Finding, FindingFix]]:
    return [
        (finding, fix)
        for finding, fix in _fixable(examined, path, relative, settings)
        if unsafe or finding.fix is Applicability.SAFE
    ]


# -- one pass -----------------------------------------------------------------------------------


def _one_pass(
    examined: Examined,
    wanted: Sequence[tuple[Finding, FindingFix]],
    text: str,
    path: str,
    notes: list[str],
) -> tuple[str, int]:
    """The text with the fixes of one pass, and how many were applied."""
    module = examined.module
    assert module is not None  # a file with fixes was analysed
    positions = _positions(module)
    valid = _validator(text)
    taken: list[tuple[Finding, Fix]] = []
    lines: list[tuple[int, int]] = []  # the lines each taken fix's node spans
    made = [(finding, _made(fix, text, positions)) for finding, fix in wanted]
    ordered = sorted(
        ((finding, fix) for finding, fix in made if fix is not None),
        key=lambda pair: _start(positions[pair[1].node]),
    )
    for finding, fix in ordered:
        span = _line_span(positions[fix.node])
        if any(span[0] <= end and start <= span[1] for start, end in lines):
            continue  # shares a line with a fix taken before it: the next pass
        taken.append((finding, fix))
        lines.append(span)
    after = _applied(module, [fix for _, fix in taken])
    if valid(after):
        return after, len(taken)
    # Some fix breaks the file: those that break it alone are dropped, the others applied.
    kept = []
    for finding, fix in taken:
        if valid(_applied(module, [fix])):
            kept.append(fix)
        else:
            where = f"{path}:{finding.line}:{finding.column}: {finding.code}"
            notes.append(f"{where}: fix dropped: the fixed file would not compile")
    after = _applied(module, kept)
    if kept and not valid(after):
        notes.append(f"{path}: fixes dropped: together they make a file that does not compile")
        return text, 0
    return after, len(kept)


Positions = Mapping[cst.CSTNode, CodeRange]


def _positions(module: cst.Module) -> Positions:
    # Whitespace-inclusive: a statement's range holds the comment lines above it, which its
    # replacement carries over.
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return wrapper.resolve(WhitespaceInclusivePositionProvider)


def _start(place: CodeRange) -> tuple[int, int]:
    return place.start.line, place.start.column


def _line_span(place: CodeRange) -> tuple[int, int]:
    """First and last line a node's text is on (a range ending at a line's start ends the line
    before)."""
    end = (
        place.end.line - 1
        if place.end.column == 0 and place.end.line > place.start.line
        else place.end.line
    )
    return place.start.line, end


def _made(fix: FindingFix, text: str, positions: Positions) -> Fix | None:
    """A rule's fix as it is; an unused noqa's made into the edit of its comment node."""
    if isinstance(fix, Fix):
        return fix
    return _noqa_fix(fix, text, positions)


def _noqa_fix(unused: Unused, text: str, positions: Positions) -> Fix | None:
    """The comment holding an unused directive, without the unused codes (or without the
    directive, or gone when nothing else was in it)."""
    directive = unused.directive
    line = split_lines(text)[directive.line - 1]
    for node, place in positions.items():
        if (
            place.start.line != directive.line
            or not isinstance(node, cst.TrailingWhitespace | cst.EmptyLine)
            or node.comment is None
        ):
            continue
        comment = node.comment.value
        at = len(line) - len(comment)  # a comment runs to the end of its line
        start, end = directive.column - 1 - at, directive.end_column - 1 - at
        if start < 0 or not comment.startswith("#", start):
            return None
        new = without_codes(comment, start, end, unused.codes)
        title = "Remove the unused `noqa` codes"
        if new is not None:
            return Fix(title, True, node, node.with_changes(comment=cst.Comment(new)))
        if isinstance(node, cst.EmptyLine):  # a line with only the directive: the line goes
            return Fix(title, True, node, cst.RemoveFromParent())
        bare = node.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
        return Fix(title, True, node, bare)
    return None


# -- applying -----------------------------------------------------------------------------------


class _Replacer(cst.CSTTransformer):
    """Replaces nodes by identity (children of a replaced node are not visited), and adds the
    imports the replacements need to the module."""

    def __init__(self, fixes: Sequence[Fix], imports: bool) -> None:
        super().__init__()
        self._replacements = {fix.node: fix.replacement for fix in fixes}
        self._imports = sorted({name for fix in fixes for name in fix.imports}) if imports else []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node not in self._replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel:
        replacement = self._replacements.get(original_node)
        if replacement is not None:
            return replacement
        if isinstance(updated_node, cst.Module) and self._imports:
            return _with_imports(updated_node, self._imports)
        return updated_node


def _applied(module: cst.Module, fixes: Sequence[Fix], *, imports: bool = True) -> str:
    """The module's code with `fixes` applied, and with the imports they need unless not
    `imports`."""
    if not fixes:
        return module.code
    return module.visit(_Replacer(fixes, imports)).code


def _with_imports(module: cst.Module, names: Sequence[str]) -> cst.Module:
    """`import <name>` for each name, after the module's docstring and the imports it starts
    with (`from __future__` first of all)."""
    body = list(module.body)
    index = 1 if body and _is_docstring(body[0]) else 0
    while index < len(body) and _is_import(body[index]):
        index += 1
    added = [cst.parse_statement(f"import {name}\n") for name in names]
    after = body[index:]
    if after and not _is_import(after[0]) and not after[0].leading_lines:
        # Code right below: a blank line after the new import, as after any import block.
        after[0] = after[0].with_changes(leading_lines=[cst.EmptyLine()])
    return module.with_changes(body=[*body[:index], *added, *after])


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body
    )


def _validator(text: str) -> Callable[[str], bool]:
    """What a fixed text must do: compile, as `text` does; parse with LibCST, where `text`
    uses syntax this Python does not know."""
    if _compiles(text):
        return _compiles
    return _parses


def _compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # `x is 1` and the like: the file's, not the fix's
            compile(text, "<fixed>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _parses(text: str) -> bool:
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, MemoryError):
        return False
    return True


def _decoded(source: bytes) -> tuple[str, str]:
    """The text and its encoding; `_NotFixable` when writing the text back in it would change
    bytes no fix touched."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        text = source.decode(encoding)
    except (SyntaxError, UnicodeError, LookupError) as error:
        raise _NotFixable(f"it does not decode: {error}") from None
    if text.encode(encoding) != source:
        raise _NotFixable(f"re-encoding it as {encoding} would change other bytes")
    return text, encoding


def _edit(before: str, after: str) -> Edit:
    """The one edit that turns `before` into `after`: what lies between their common start and
    their common end."""
    limit = min(len(before), len(after))
    start = 0
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[-1 - end] == after[-1 - end]:
        end += 1
    line, column = _place(before, start)
    end_line, end_column = _place(before, len(before) - end)
    return Edit(line, column, end_line, end_column, after[start : len(after) - end])


def _place(text: str, offset: int) -> tuple[int, int]:
    lines = split_lines(text[:offset])
    return len(lines), len(lines[-1]) + 1


def fixer(argument: tuple[Settings, bool]) -> Callable[[tuple[bytes, str]], FixResult]:
    """What a worker process runs for each (source, path) to fix: `fix_source`, unsafe fixes
    too when the argument's flag says so."""
    settings, unsafe = argument
    return lambda item: fix_source(item[0], item[1], settings, unsafe=unsafe)

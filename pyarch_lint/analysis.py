"""One file's bytes -> its findings: decode, parse once, one walk for all rules, place.

This is the side of the engine that runs in the worker processes and the only one that imports
LibCST (a run whose files are all cached never does). It never dies on one file: a file that
does not decode or parse becomes a finding (PA002, PA001), anything else that goes wrong while
analysing it becomes PA003, and a rule that raises is reported by name while every other rule's
findings still come out.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
import tokenize
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from pyarch_lint.cache import Analysis, digest
from pyarch_lint.checks.base import Fix, Rule
from pyarch_lint.checks.options import NoqaOptions
from pyarch_lint.checks.registry import HARD_CODED_SECRET, load_rule_class
from pyarch_lint.config import Settings
from pyarch_lint.excerpt import excerpt_of, excerpt_of_bytes
from pyarch_lint.facts import facts_of
from pyarch_lint.files import read_regular, relative_to_root, split_lines
from pyarch_lint.findings import Applicability, RawFinding
from pyarch_lint.locate import Locator, Span
from pyarch_lint.memory import without_cyclic_gc
from pyarch_lint.secrets import Untokenizable, find_reportable
from pyarch_lint.suppress import (
    NO_COMMENTS,
    UNUSED_NOQA,
    Comments,
    Unused,
    file_suppressions,
    scan,
    suppressing_line,
    unused,
)
from pyarch_lint.walk import Walker

# A rule as the walker runs it: the code it reports under, and its visitor class.
Visitor = tuple[str, type[Rule]]


class _Unanalysable(Exception):
    """The file cannot be analysed; carries the engine finding that says why."""

    def __init__(self, finding: RawFinding) -> None:
        super().__init__(finding[5])
        self.finding = finding


_BYTE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _byte_position(source: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of `offset`, lines ended as Python ends them."""
    line = len(_BYTE_LINE_BREAK.findall(source, 0, offset)) + 1
    start = max(source.rfind(b"\n", 0, offset), source.rfind(b"\r", 0, offset)) + 1
    return line, offset - start + 1


def _decode(source: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as error:
        if "invalid or missing" not in str(error):
            if source.startswith(b"\xef\xbb\xbf"):
                message = "cannot decode: the coding declaration contradicts the UTF-8 BOM"
            else:
                message = f"cannot decode: {error}"
            raise _Unanalysable((1, 1, 1, 1, "PA002", message)) from None
        # Non-UTF-8 bytes in the first two lines fail the cookie search itself; decoding as
        # UTF-8, the default, points at the bad byte instead of a "missing declaration".
        encoding = "utf-8"
    try:
        text = source.decode(encoding)
    except UnicodeDecodeError as error:
        line, column = _byte_position(source, error.start)
        bad = source[error.start : error.start + 1]
        what = f"byte {bad[0]:#04x} is invalid" if bad else "the file ends mid-character"
        message = f"cannot decode as {encoding}: {what}"
        raise _Unanalysable((line, column, line, column + 1, "PA002", message)) from None
    except LookupError:
        message = f"cannot decode: unknown encoding {encoding!r} in the coding declaration"
        raise _Unanalysable((1, 1, 1, 1, "PA002", message)) from None
    except (UnicodeError, ValueError) as error:  # codecs such as idna fail in their own ways
        message = f"cannot decode as {encoding}: {error}"
        raise _Unanalysable((1, 1, 1, 1, "PA002", message)) from None
    nul = text.find("\0")
    if nul >= 0:
        line = len(_LINE_BREAK.findall(text, 0, nul)) + 1
        message = "contains a NUL byte: not a Python source file"
        raise _Unanalysable((line, 1, line, 1, "PA002", message))
    return text


# What CPython refuses whatever its version: LibCST's native parser, given the same input, can
# recurse until it overflows the stack and kills the process (about 1,200 nested brackets) or
# take minutes (a few thousand chained operators). Such a file never reaches it.
_LIMIT_ERRORS = ("too many nested parentheses", "too many levels of indentation")
# sys.getrecursionlimit()'s default, the limit under which an import compiles a module (CPython
# 3.10 and 3.11 derive the depth the compiler accepts from it; workers raise it for the rules).
_IMPORT_RECURSION_LIMIT = 1000


@contextlib.contextmanager
def _as_an_import() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, _IMPORT_RECURSION_LIMIT))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. are not our findings
            yield
    finally:
        sys.setrecursionlimit(limit)


def _python_verdict(text: str) -> ast.Module | SyntaxError | None:
    """CPython's own parse, under the limits an import meets: the tree (the locator reuses it),
    or the syntax error (the better message for PA001; LibCST may still parse newer syntax), or
    None when only building the Python-level tree overflowed. A file CPython cannot compile
    because it nests too deeply is PA001 here, before LibCST can crash or stall on it."""
    with _as_an_import():
        try:
            return ast.parse(text)
        except SyntaxError as error:
            if not error.msg.startswith(_LIMIT_ERRORS):
                return error
            line, column = error.lineno or 1, error.offset or 1
            message = f"syntax error: {error.msg}"
        except (RecursionError, MemoryError):
            # The Python-level tree has a depth limit of its own: ask the compiler itself
            # before calling the file invalid.
            try:
                compile(text, "<file>", "exec", dont_inherit=True)
            except SyntaxError as error:
                line, column = error.lineno or 1, error.offset or 1
                message = f"syntax error: {error.msg}"
            except (RecursionError, MemoryError) as error:
                line, column = 1, 1
                reason = str(error) or type(error).__name__
                message = f"Python cannot compile this file: it nests too deeply ({reason})"
            else:
                return None
        except ValueError:  # text Python refuses outright (a lone surrogate): LibCST decides
            return None
    raise _Unanalysable(_placed(text, line, column, "PA001", message))


def _placed(text: str, line: int, column: int, code: str, message: str) -> RawFinding:
    """A parser's error position, kept inside the file: a parser may point one past the end
    of a line, or at the line after the last one."""
    lines = split_lines(text)
    line = min(max(line, 1), len(lines))
    width = len(lines[line - 1]) + 1
    column = min(max(column, 1), width)
    return (line, column, line, min(column + 1, width), code, message)


def _skip_validation(_node: cst.CSTNode) -> None:
    """Stands in for `CSTNode.__post_init__` while the parser builds a tree."""


@contextlib.contextmanager
def _trusting_the_parser() -> Iterator[None]:
    """Every LibCST node checks itself as it is built (`CSTNode.__post_init__`): a fifth of a
    parse, there to catch trees put together by hand. A tree LibCST's own parser built from
    source is valid by construction (LibCST's comment on that method says as much), so the
    check is off for the parse, and only for it: nodes a rule builds are checked as usual.
    Workers are single-threaded; the swap is undone however the parse ends."""
    check = cst.CSTNode.__post_init__
    cst.CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = check  # type: ignore[method-assign]


def _parse(text: str, verdict: ast.Module | SyntaxError | None) -> cst.Module:
    try:
        if isinstance(verdict, SyntaxError):
            # Syntax this Python rejects, which LibCST may half know (3.14's t-strings): its
            # nodes check themselves as they are built, so an inconsistent tree is a syntax
            # error here rather than a crash of whatever reads it later.
            return cst.parse_module(text)
        with _trusting_the_parser():
            return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        code, message = "PA001", f"syntax error: {error.message}"
        if isinstance(verdict, ast.Module):  # a LibCST limit (5,000 adjacent strings), not ours
            code = "PA003"
            message = f"analysis failed: LibCST cannot parse what Python accepts: {error.message}"
        problem = _placed(text, error.editor_line, error.editor_column, code, message)
    except (RecursionError, MemoryError):
        raise
    except Exception:
        # LibCST's parser fails in other ways on syntax it half knows (3.14's t-strings raise
        # CSTLogicError); a file this Python rejects is a syntax error all the same.
        if not isinstance(verdict, SyntaxError):
            raise
        problem = _placed(text, 1, 1, "PA001", f"syntax error: {verdict.msg}")
    if isinstance(verdict, SyntaxError) and verdict.lineno is not None:
        # CPython's own parser words it better ("'(' was never closed") and places it.
        message = f"syntax error: {verdict.msg}"
        problem = _placed(text, verdict.lineno, verdict.offset or 1, "PA001", message)
    raise _Unanalysable(problem)


# A finding's fix as analysis finds it: a rule's `Fix`, or the codes of a `# noqa` comment
# that suppress nothing (PA004), which `fixes` turns into an edit of that comment.
FindingFix = Fix | Unused


@dataclass(frozen=True, slots=True)
class Examined:
    """One file's analysis and, for `fixes`, the tree it was made from and each fixable
    finding's fix."""

    analysis: Analysis
    module: cst.Module | None  # None: the file could not be analysed
    fixes: Mapping[RawFinding, FindingFix]


def analyse_source(
    source: bytes, rules: Sequence[Visitor], settings: Settings, path: str = ""
) -> Analysis:
    """Findings of one file's bytes, suppressions applied, per-file-ignores not yet, with what
    their reports show of the file and the file's facts. `path` is the file's, relative to the
    project root and `/`-separated (the cache files an analysis under it): a rule may tell
    configuration modules or tests by it ("" when there is no file)."""
    return examine(source, rules, settings, path).analysis


def examine(
    source: bytes, rules: Sequence[Visitor], settings: Settings, path: str = ""
) -> Examined:
    """`analyse_source`, with the tree and the findings' fixes."""
    key = digest(source)
    try:
        with without_cyclic_gc():  # both trees are acyclic: see `memory`
            return _analyse(source, key, rules, settings, path)
    except _Unanalysable as problem:
        found = [problem.finding]
    except (RecursionError, MemoryError) as error:
        message = (
            f"analysis failed: {type(error).__name__} (the file nests too deeply or is too big)"
        )
        found = [(1, 1, 1, 1, "PA003", message)]
    except Exception as error:  # reported as a finding, never lost
        found = [(1, 1, 1, 1, "PA003", f"analysis failed: {type(error).__name__}: {error}")]
    with _as_an_import():  # it parses the file again, under the same limits
        excerpt = excerpt_of_bytes(source, found)
    return Examined(Analysis(key, found, excerpt=excerpt), None, {})


def _described(
    key: str,
    lines: Sequence[str],
    tree: ast.Module | None,
    module: cst.Module,
    found: list[RawFinding],
    *,
    crashes: list[str],
    fixes: Mapping[RawFinding, FindingFix],
) -> Examined:
    """The analysis of a file that parsed: its findings, their excerpt and the file's facts,
    all taken from the trees and lines at hand."""
    marks = {}
    if fixes:
        for index, finding in enumerate(found):
            fix = fixes.get(finding)
            if fix is not None:
                safe = isinstance(fix, Unused) or fix.safe
                marks[index] = Applicability.SAFE if safe else Applicability.UNSAFE
    analysis = Analysis(
        key, found, crashes, excerpt_of(lines, tree, found), facts_of(tree, lines), marks
    )
    return Examined(analysis, module, fixes)


def _analyse(
    source: bytes, key: str, rules: Sequence[Visitor], settings: Settings, path: str
) -> Examined:
    text = _decode(source)
    verdict = _python_verdict(text)
    module = _parse(text, verdict)
    tree = verdict if isinstance(verdict, ast.Module) else None
    lines = split_lines(text)
    options = settings.rule_options
    applicable = [
        (code, rule)
        for code, rule in rules
        if (needed := rule.requires_any(options)) is None or any(t in source for t in needed)
    ]
    # Tokenizing costs milliseconds a file; one without the word has no comment to read.
    comments = scan(text) if b"noqa" in source.lower() else NO_COMMENTS
    secrets = _hard_coded_secrets(text, tree, settings)
    if not applicable and not comments.directives and not secrets:
        return _described(key, lines, tree, module, [], crashes=[], fixes={})
    walker = Walker(module, applicable, dict(options), path)
    walker.walk()
    crashes = [
        f"rule {crash.code} ({crash.rule}) crashed: {type(crash.error).__name__}: {crash.error}"
        for crash in walker.crashes
    ]
    # The file says so too, where every output format shows it: its findings are incomplete.
    findings: list[RawFinding] = [
        (1, 1, 1, 1, "PA003", f"analysis incomplete: {crash}; its other findings are reported")
        for crash in crashes
    ]
    file_codes = file_suppressions(text)
    reported = list(secrets)
    fixes: dict[RawFinding, FindingFix] = {}
    if walker.reports:
        locator = Locator(tree, lines, module, walker.statements, walker.handlers)
        for report in walker.reports:
            span: Span = locator.span(report)
            place = (span.line, span.column, span.end_line, span.end_column)
            raw = (*place, report.code, report.message)
            reported.append(raw)
            if report.fix is not None:
                fixes[raw] = report.fix
    suppressed: set[tuple[int, str]] = set()  # (line of the comment, or 0 for the file's; code)
    for finding in reported:
        code = finding[4]
        if any(code.startswith(prefix) for prefix in file_codes):
            suppressed.add((0, code))
            continue
        line = suppressing_line(code, finding[0], lines, comments)
        if line:
            suppressed.add((line, code))
            continue
        findings.append(finding)
    if comments.directives:
        for noqa in _unused_noqa(comments, suppressed, file_codes, walker, settings):
            findings.append(noqa.finding)
            fixes[noqa.finding] = noqa
    return _described(key, lines, tree, module, sorted(set(findings)), crashes=crashes, fixes=fixes)


def _unused_noqa(
    comments: Comments,
    suppressed: set[tuple[int, str]],
    file_codes: tuple[str, ...],
    walker: Walker,
    settings: Settings,
) -> list[Unused]:
    """PA004, when it is on and the file does not suppress it. Only the codes that ran in full
    in this run are judged: enabled, and their rule did not crash. A project rule's code is
    never judged here: its findings come later, from every file's facts."""
    enabled = settings.enabled_codes()
    if UNUSED_NOQA not in enabled or any(UNUSED_NOQA.startswith(c) for c in file_codes):
        return []
    judged = enabled - {crash.code for crash in walker.crashes}
    judged -= {info.code for info in settings.rules.by_code.values() if info.project_rule}
    options = settings.rule_options.get(NoqaOptions, NoqaOptions())
    return unused(comments, suppressed, settings.rules.by_code, judged, options.check_bare)


_SECRET_ADVICE = (
    "read it from the environment or a secret store instead, and rotate it if it was ever committed"
)


def _hard_coded_secrets(text: str, tree: ast.Module | None, settings: Settings) -> list[RawFinding]:
    """PA607, before suppressions: the secrets `pyarch_lint.secrets` finds that are precise
    enough to report, at the literal (or the match in a string or comment). The detector reads
    tokens, and a comment is no node of the tree the rules walk, so the engine reports them
    itself; only the statements that could hold one are tokenized. The message names the kind,
    never the value."""
    if HARD_CODED_SECRET not in settings.enabled_codes():
        return []
    try:
        found = find_reportable(text, tree)
    except Untokenizable:  # the parse accepted what this Python's tokenizer rejects
        return []
    findings: list[RawFinding] = []
    for secret in found:
        line, column = _position(text, secret.where[0])
        end_line, end_column = _position(text, secret.where[1])
        what = "hard-coded secret" + ("" if secret.kind == "secret" else f" ({secret.kind})")
        message = f"{what}: {_SECRET_ADVICE}"
        findings.append((line, column, end_line, end_column, HARD_CODED_SECRET, message))
    return findings


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of `offset`, lines ended as Python ends them."""
    line = len(_LINE_BREAK.findall(text, 0, offset)) + 1
    start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return line, offset - start + 1


def _analyse_path(
    path: Path, settings: Settings, rules: Sequence[Visitor], relative: Callable[[Path], str]
) -> Analysis:
    try:
        source = read_regular(path)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return Analysis("", [(1, 1, 1, 1, "PA002", f"cannot read: {reason}")])
    return analyse_source(source, rules, settings, relative(path))


def visitors(settings: Settings) -> list[Visitor]:
    """The enabled rules' visitors, imported."""
    return [(info.code, load_rule_class(info)) for info in settings.enabled_rules()]


def analyser(settings: Settings) -> Callable[[Path], Analysis]:
    """What each worker process runs for each file (the visitors imported once)."""
    rules = visitors(settings)
    relative = relative_to_root(settings.root)
    return lambda path: _analyse_path(path, settings, rules, relative)

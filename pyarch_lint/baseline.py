"""`--write-baseline FILE` records today's findings; `--baseline FILE` hides them afterwards.

A finding is recognised by its path, its code and a fingerprint of the reported line's text
(whitespace collapsed) and the def/class it sits in, never by its line number: inserting lines
elsewhere moves a finding without resurrecting it, and editing the flagged line itself does bring
it back, which is right, since the code changed. Identical findings in one scope are counted, so
a second copy of a baselined mistake is still reported.

The file is a diff-friendly JSON document: one finding per line, sorted, no line numbers, no
timestamps, so rewriting it after a fix removes exactly that finding's line.

The def/class around a finding is what CPython's own parser says: each file with findings is
parsed once with `ast`, and each finding's scope is found by bisecting the defs' and classes'
line spans.
"""

from __future__ import annotations

import ast
import hashlib
import json
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, NamedTuple

from pyarch_lint.errors import LintError
from pyarch_lint.findings import Finding
from pyarch_lint.memory import without_cyclic_gc
from pyarch_lint.report import escape_surrogates

VERSION = 1
_string = encode_basestring  # json.dumps's escaping of a string, quotes included (not ASCII-only)

SourceLines = Callable[[str], Sequence[str]]
"""Display path -> the file's lines, as the engine numbered them."""

Span = tuple[int, int, str]
"""A def or class: its first line (the `def`/`class` keyword's), its last, its dotted name."""


class BaselineError(LintError):
    """The baseline file cannot be read or is not one of ours (exit 2)."""


class Key(NamedTuple):
    """What identifies a finding across edits. A named tuple: hashed and sorted in C, which
    counts when a baseline is written for tens of thousands of findings."""

    path: str  # relative to the repository root, so the file works from any folder
    code: str
    scope: str  # dotted def/class names around the finding, "" at module level
    fingerprint: str


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def ast_spans(text: str) -> list[Span]:
    """Every def and class by the stdlib `ast`, in order of their first line; none if the text
    does not parse. Only statement lists are followed: a def or class is always a statement, and
    the expressions, most of a tree, need not be visited."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[Span] = []
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in _statements_in(node):
            name = prefix
            if isinstance(child, _DEFS):
                name = f"{prefix}.{child.name}" if prefix else child.name
                end = child.end_lineno if child.end_lineno is not None else child.lineno
                found.append((child.lineno, end, name))
            stack.append((child, name))
    return sorted(found)


def _statements_in(node: ast.AST) -> list[ast.stmt]:
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


def _as_scopes(spans: Sequence[Span]) -> Scopes:
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


def scopes(lines: Sequence[str]) -> Scopes:
    """The scopes of a file's lines."""
    return _as_scopes(ast_spans("\n".join(lines)))


# -- Keys --------------------------------------------------------------------------------------


def fingerprint(code: str, scope: str, line_text: str) -> str:
    normalised = " ".join(line_text.split())
    # surrogatepass: a lone surrogate in a line (a codec like raw_unicode_escape makes them) is
    # hashed as it is rather than stopping the run; other text encodes as plain UTF-8.
    data = f"{code}\0{scope}\0{normalised}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _File:
    """What every finding in one file needs: its lines, its scopes and its path as recorded."""

    lines: Sequence[str]
    scopes: Scopes
    path: str


def _files(
    findings: Sequence[Finding], lines_of: SourceLines, root_paths: Mapping[str, str]
) -> dict[str, _File]:
    files = {}
    for path in dict.fromkeys(f.path for f in findings):
        lines = lines_of(path)
        recorded = escape_surrogates(root_paths.get(path, path))
        files[path] = _File(lines, scopes(lines), recorded)
    return files


def keys(
    findings: Sequence[Finding], lines_of: SourceLines, root_paths: Mapping[str, str]
) -> list[Key]:
    """The key of each finding, in order. `root_paths` maps display paths to root-relative ones;
    each file is read and scanned once, whatever its number of findings."""
    with without_cyclic_gc():
        return _keys(findings, _files(findings, lines_of, root_paths))


def _keys(findings: Sequence[Finding], files: Mapping[str, _File]) -> list[Key]:
    # Findings of one code on one line (a def and its parameters, say) share their fingerprint.
    fingerprints: dict[tuple[str, int, str], tuple[str, str]] = {}
    result = []
    for finding in findings:
        file = files[finding.path]
        line = finding.line
        known = fingerprints.get((finding.path, line, finding.code))
        if known is None:
            scope = file.scopes.at(line)
            text = file.lines[line - 1] if 0 < line <= len(file.lines) else ""
            known = scope, fingerprint(finding.code, scope, text)
            fingerprints[finding.path, line, finding.code] = known
        result.append(Key(file.path, finding.code, *known))
    return result


def dumps(found: Sequence[Key]) -> str:
    """One entry per line, sorted; equal keys merged into a count. Each entry is written as
    json.dumps(entry, ensure_ascii=False) writes it, without building the dict."""
    with without_cyclic_gc():
        counted = sorted(Counter(found).items())
    rows = [
        f'{{"path": {_string(path)}, "code": {_string(code)}, "scope": {_string(scope)}, '
        f'"fingerprint": {_string(fingerprint)}, "count": {count}}}'
        for (path, code, scope, fingerprint), count in counted
    ]
    body = ",\n".join(f"    {row}" for row in rows)
    findings = f"[\n{body}\n  ]" if rows else "[]"
    return f'{{\n  "version": {VERSION},\n  "findings": {findings}\n}}\n'


def load(path: Path) -> Counter[Key]:
    """The keys a baseline file records, with their counts."""
    with without_cyclic_gc():  # a dict and a key per finding
        return _load(path)


def _load(path: Path) -> Counter[Key]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{path}: not a pyarch-lint baseline: {error}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise BaselineError(
            f"{path}: not a pyarch-lint baseline of version {VERSION} "
            "(write a new one with --write-baseline)"
        )
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: `findings` must be a list")
    recorded: Counter[Key] = Counter()
    for number, entry in enumerate(entries, start=1):
        recorded[_entry(path, number, entry)] += entry["count"]
    return recorded


def _entry(path: Path, number: int, entry: Any) -> Key:
    fields = ("path", "code", "scope", "fingerprint")
    if (
        not isinstance(entry, dict)
        or not all(isinstance(entry.get(name), str) for name in fields)
        or not isinstance(entry.get("count"), int)
        or entry["count"] < 1
    ):
        raise BaselineError(
            f"{path}: finding {number} must have string path, code, scope and fingerprint "
            "and a positive integer count"
        )
    return Key(entry["path"], entry["code"], entry["scope"], entry["fingerprint"])


def new_findings(
    findings: Sequence[Finding], found: Sequence[Key], baseline: Counter[Key]
) -> list[Finding]:
    """The findings the baseline does not account for; `found` holds their keys, in order."""
    remaining = Counter(baseline)
    fresh = []
    for finding, key in zip(findings, found, strict=True):
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            fresh.append(finding)
    return fresh

"""`--write-baseline FILE` records today's findings; `--baseline FILE` hides them afterwards.

A finding is recognised by its path, its code and a fingerprint of the reported line's text
(whitespace collapsed) and the def/class it sits in, never by its line number: inserting lines
elsewhere moves a finding without resurrecting it, and editing the flagged line itself does bring
it back, which is right, since the code changed. Identical findings in one scope are counted, so
a second copy of a baselined mistake is still reported.

The file is a diff-friendly JSON document: one finding per line, sorted, no line numbers, no
timestamps, so rewriting it after a fix removes exactly that finding's line.
"""

from __future__ import annotations

import ast
import hashlib
import json
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyarch_lint.findings import Finding

VERSION = 1

SourceLines = Callable[[str], Sequence[str]]
"""Display path -> the file's lines, as the engine numbered them."""


class BaselineError(Exception):
    """The baseline file cannot be read or is not one of ours (exit 2)."""


@dataclass(frozen=True, slots=True, order=True)
class Key:
    """What identifies a finding across edits."""

    path: str  # relative to the repository root, so the file works from any folder
    code: str
    scope: str  # dotted def/class names around the finding, "" at module level
    fingerprint: str


def _scopes(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every def and class, outermost first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[tuple[int, int, str]] = []
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{child.name}" if prefix else child.name
                end = child.end_lineno if child.end_lineno is not None else child.lineno
                found.append((child.lineno, end, name))
            stack.append((child, name))
    return found


def _scope_at(scopes: Sequence[tuple[int, int, str]], line: int) -> str:
    """The innermost scope containing `line`: the longest qualified name among those that do."""
    names = [name for first, last, name in scopes if first <= line <= last]
    return max(names, key=lambda name: name.count("."), default="")


def fingerprint(code: str, scope: str, line_text: str) -> str:
    normalised = " ".join(line_text.split())
    return hashlib.sha256(f"{code}\0{scope}\0{normalised}".encode()).hexdigest()[:16]


def keys(
    findings: Sequence[Finding], lines_of: SourceLines, root_paths: Mapping[str, str]
) -> list[Key]:
    """The key of each finding, in order. `root_paths` maps display paths to root-relative ones."""
    scopes: dict[str, list[tuple[int, int, str]]] = {}
    result = []
    for finding in findings:
        lines = lines_of(finding.path)
        if finding.path not in scopes:
            scopes[finding.path] = _scopes("\n".join(lines))
        scope = _scope_at(scopes[finding.path], finding.line)
        text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        path = root_paths.get(finding.path, finding.path)
        result.append(Key(path, finding.code, scope, fingerprint(finding.code, scope, text)))
    return result


def dumps(found: Sequence[Key]) -> str:
    """One entry per line, sorted; equal keys merged into a count."""
    counts = Counter(found)
    rows = [
        json.dumps(
            {
                "path": key.path,
                "code": key.code,
                "scope": key.scope,
                "fingerprint": key.fingerprint,
                "count": count,
            },
            ensure_ascii=False,
        )
        for key, count in sorted(counts.items())
    ]
    body = ",\n".join(f"    {row}" for row in rows)
    findings = f"[\n{body}\n  ]" if rows else "[]"
    return f'{{\n  "version": {VERSION},\n  "findings": {findings}\n}}\n'


def load(path: Path) -> Counter[Key]:
    """The keys a baseline file records, with their counts."""
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

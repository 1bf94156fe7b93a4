"""`--write-baseline FILE` records today's findings; `--baseline FILE` hides them afterwards.

A finding is recognised by its path, its code and a fingerprint of the reported line's text
(whitespace collapsed) and the def/class it sits in, never by its line number: inserting lines
elsewhere moves a finding without resurrecting it, and editing the flagged line itself does bring
it back, which is right, since the code changed. Identical findings in one scope are counted, so
a second copy of a baselined mistake is still reported.

The file is a diff-friendly JSON document: one finding per line, sorted, no line numbers, no
timestamps, so rewriting it after a fix removes exactly that finding's line.

The def/class around a finding and its line's text come from analysis, with the finding (see
`excerpt`): writing or applying a baseline reads no source file.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, NamedTuple

from pyarch_lint.errors import LintError
from pyarch_lint.excerpt import NO_EXCERPT, Excerpt
from pyarch_lint.files import escape_surrogates
from pyarch_lint.findings import Finding
from pyarch_lint.memory import without_cyclic_gc

VERSION = 1
_string = encode_basestring  # json.dumps's escaping of a string, quotes included (not ASCII-only)


class BaselineError(LintError):
    """The baseline file cannot be read or is not one of ours (exit 2)."""


class Key(NamedTuple):
    """What identifies a finding across edits. A named tuple: hashed and sorted in C, which
    counts when a baseline is written for tens of thousands of findings."""

    path: str  # relative to the repository root, so the file works from any folder
    code: str
    scope: str  # dotted def/class names around the finding, "" at module level
    fingerprint: str


# -- Keys --------------------------------------------------------------------------------------


def fingerprint(code: str, scope: str, line_text: str) -> str:
    normalised = " ".join(line_text.split())
    # surrogatepass: a lone surrogate in a line (a codec like raw_unicode_escape makes them) is
    # hashed as it is rather than stopping the run; other text encodes as plain UTF-8.
    data = f"{code}\0{scope}\0{normalised}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:16]


def keys(
    findings: Sequence[Finding], excerpts: Mapping[str, Excerpt], root_paths: Mapping[str, str]
) -> list[Key]:
    """The key of each finding, in order. `excerpts` holds what analysis kept of each file (by
    display path), `root_paths` maps display paths to root-relative ones."""
    with without_cyclic_gc():
        return _keys(findings, excerpts, root_paths)


def _keys(
    findings: Sequence[Finding], excerpts: Mapping[str, Excerpt], root_paths: Mapping[str, str]
) -> list[Key]:
    # Findings of one code on one line (a def and its parameters, say) share their fingerprint.
    fingerprints: dict[tuple[str, int, str], tuple[str, str]] = {}
    recorded: dict[str, str] = {}
    result = []
    for finding in findings:
        path, line = finding.path, finding.line
        known = fingerprints.get((path, line, finding.code))
        if known is None:
            shown = excerpts.get(path, NO_EXCERPT)
            scope = shown.scope(line)
            known = scope, fingerprint(finding.code, scope, shown.text(line))
            fingerprints[path, line, finding.code] = known
        where = recorded.get(path)
        if where is None:
            where = recorded[path] = escape_surrogates(root_paths.get(path, path))
        result.append(Key(where, finding.code, *known))
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

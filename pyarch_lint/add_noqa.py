"""`--add-noqa`: a `# noqa: CODE` comment for every finding, so that the next run is clean.

ruff's semantics: one comment per line, listing that line's codes; a line that already has a
`# noqa: CODES` comment gets its codes added to it (`# noqa: E501` becomes `# noqa: E501,
PA401`), the rest of the comment kept. A finding on a line that cannot end in a comment (inside
a multi-line string, or continued by a backslash) gets its comment where `suppress` reads it:
at the end of the string or of the last continued line. Findings no comment can suppress
(PA001-PA003: the file does not parse, cannot be read, or was not analysed) are left alone.

Editing is careful with the user's files: only the comments are added, every other byte
(line endings, BOM, encoding) stays; the new file is written aside and renamed over the old
one; a symlink is never followed nor replaced; a file that changed since it was read is left.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyarch_lint.files import FileChanged, read_for_edit, replace_file
from pyarch_lint.findings import Finding
from pyarch_lint.suppress import ALL, scan

# What a comment cannot suppress, and why.
UNSUPPRESSIBLE = {
    "PA001": "the file does not parse",
    "PA002": "the file cannot be read",
    "PA003": "the file was not analysed",
}
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


@dataclass(frozen=True, slots=True)
class Added:
    """What `add_noqa` did: comments added or extended, in how many files, and what is left."""

    comments: int
    files: int
    left: list[str]  # one line each: a finding left without a comment, and why


class _LeftAlone(Exception):
    """This file is not edited; the message says why."""


def add_noqa(findings: Sequence[Finding], paths: Mapping[str, Path]) -> Added:
    """Add the comments for `findings` (display path -> file in `paths`) to their files."""
    comments, files, left = 0, 0, []
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        reason = UNSUPPRESSIBLE.get(finding.code)
        if reason is not None:
            left.append(f"{_where(finding)}: a comment cannot suppress it: {reason}")
        else:
            by_file[finding.path].append(finding)
    for display, found in by_file.items():
        try:
            count = _edit(paths[display], found)
        except _LeftAlone as problem:
            left.extend(f"{_where(f)}: {display} left alone: {problem}" for f in found)
            continue
        except OSError as error:
            reason = error.strerror or type(error).__name__
            left.extend(f"{_where(f)}: {display} not written: {reason}" for f in found)
            continue
        comments += count
        files += 1 if count else 0
    return Added(comments, files, left)


def with_noqa(text: str, findings: Sequence[Finding]) -> str | None:
    """`text` (one file's) with the comments for those of `findings` a comment can suppress, as
    `add_noqa` writes them; None when the text cannot take them (the tokenizer refuses it, or a
    finding's line is gone). What the language server's "add noqa" action edits in."""
    suppressible = [f for f in findings if f.code not in UNSUPPRESSIBLE]
    try:
        new_text, _count = _with_comments(text, suppressible)
    except _LeftAlone:
        return None
    return new_text


def _where(finding: Finding) -> str:
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.code}"


def _edit(path: Path, findings: Sequence[Finding]) -> int:
    """Add the comments to one file; how many lines got one."""
    if os.path.islink(path):
        raise _LeftAlone("it is a symlink, which is never followed")
    source, before = read_for_edit(path)
    text, encoding = _decode(source)
    new_text, count = _with_comments(text, findings)
    if count:
        try:
            replace_file(path, new_text.encode(encoding), before)
        except FileChanged:
            raise _LeftAlone("it changed while the comments were being added") from None
    return count


def _decode(source: bytes) -> tuple[str, str]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        text = source.decode(encoding)
    except (SyntaxError, UnicodeError, LookupError) as error:
        raise _LeftAlone(f"it does not decode: {error}") from None
    if text.encode(encoding) != source:  # a codec with several spellings for one text
        raise _LeftAlone(f"re-encoding it as {encoding} would change other bytes")
    return text, encoding


def _with_comments(text: str, findings: Sequence[Finding]) -> tuple[str, int]:
    """`text` with a `# noqa` for each finding, and how many lines got one."""
    comments = scan(text)
    if comments.continued is None:
        raise _LeftAlone("Python's tokenizer refuses it")
    codes: dict[int, set[str]] = defaultdict(set)
    for finding in findings:
        codes[comments.noqa_line(finding.line)].add(finding.code)
    parts = _LINE_BREAK.split(text)  # line, its ending, line, its ending, ..., last line
    merged = {
        directive.line: directive.end_column - 1
        for directive in reversed(comments.directives)  # the first of a line wins
        if directive.codes != ALL and not directive.file_level
    }
    for line, new in codes.items():
        if not 0 < line <= (len(parts) + 1) // 2:
            raise _LeftAlone(f"it has no line {line}: it changed since it was checked")
        content = parts[2 * (line - 1)]
        listed = ", ".join(sorted(new))
        at = merged.get(line)
        if at is None:
            content = content.rstrip(" \t") + f"  # noqa: {listed}"
        else:
            content = f"{content[:at]}, {listed}{content[at:]}"
        parts[2 * (line - 1)] = content
    return "".join(parts), len(codes)

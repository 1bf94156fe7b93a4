"""`--changed-since REF`: which lines changed since a git revision, so a pull request is judged,
and pays for escalation, only on its own change.

The lines come from `git diff -U0 REF` (the working tree against REF, staged or not, renames
followed) plus every untracked, not ignored file as a whole. Git options that would change the
output's shape (prefixes, quoting, external diff drivers, colour) are pinned on the command line.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyarch_lint.errors import LintError
from pyarch_lint.findings import Finding
from pyarch_lint.git import run_git

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13}


class GitError(LintError):
    """git cannot answer: not a repository, an unknown revision, no git at all (exit 2)."""


@dataclass(frozen=True, slots=True)
class Changes:
    """Changed line numbers of each changed file (resolved path); None: the whole file."""

    files: Mapping[Path, frozenset[int] | None]

    def touches(self, path: Path) -> bool:
        return path.resolve() in self.files

    def covers(self, path: Path, first: int, last: int) -> bool:
        """Did any of lines `first`..`last` of `path` change?"""
        lines = self.files.get(path.resolve(), frozenset())
        return lines is None or any(line in lines for line in range(first, max(first, last) + 1))


def repository_root(start: Path) -> Path | None:
    """The top of the git work tree holding `start`, found without running git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _git(arguments: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return run_git(arguments, cwd)
    except OSError as error:
        raise GitError(f"--changed-since needs git, which cannot run: {error}") from None


def changed_since(ref: str, cwd: Path) -> Changes:
    """The lines changed between `ref` and the working tree of the repository holding `cwd`."""
    if not ref or ref.startswith("-"):
        raise GitError(f"--changed-since: {ref!r} is not a git revision")
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise GitError(f"--changed-since needs a git repository, and {cwd} is not inside one")
    root = Path(os.fsdecode(top.stdout.rstrip(b"\n"))).resolve()
    known = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    if known.returncode != 0:
        raise GitError(
            f"--changed-since: unknown git revision {ref!r} "
            "(in CI, fetch it first, e.g. actions/checkout with fetch-depth: 0)"
        )
    diff = _git(
        [
            "diff",
            "-U0",
            "-M",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            ref,
            "--",
        ],
        root,
    )
    if diff.returncode != 0:
        message = diff.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"--changed-since: git diff {ref} failed: {message}")
    files: dict[Path, frozenset[int] | None] = {
        root / path: frozenset(lines) for path, lines in parse_diff(diff.stdout).items()
    }
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], root)
    for name in untracked.stdout.split(b"\0"):
        if name:
            files[root / os.fsdecode(name)] = None
    return Changes({path.resolve(): lines for path, lines in files.items()})


def parse_diff(output: bytes) -> dict[str, set[int]]:
    """Changed (added or modified) line numbers of each file of a `git diff -U0` in new-file
    numbering, keyed by path relative to the repository root. Deleted files are left out."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in output.split(b"\n"):
        if line.startswith(b"+++ "):
            target = line[4:]
            if target == b"/dev/null":
                current = None
                continue
            name = os.fsdecode(_unquote(target)).removeprefix("b/")
            current = changed.setdefault(name, set())
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start, count = int(match[1]), int(match[2] or b"1")
            current.update(range(start, start + count))
    return changed


def _unquote(name: bytes) -> bytes:
    """git's C-style quoting of unusual file names: `"b/a\\"b\\303\\251"`."""
    if not (name.startswith(b'"') and name.endswith(b'"')):
        return name
    body, out, index = name[1:-1], bytearray(), 0
    while index < len(body):
        char = body[index : index + 1]
        if char != b"\\":
            out += char
            index += 1
            continue
        following = body[index + 1 : index + 2]
        if following.isdigit():
            out.append(int(body[index + 1 : index + 4], 8))
            index += 4
        else:
            out.append(_ESCAPES.get(following, following[0] if following else 92))
            index += 2
    return bytes(out)


def on_changed_lines(
    findings: Sequence[Finding], changes: Changes, paths: Mapping[str, Path]
) -> list[Finding]:
    """The findings on changed lines. An engine finding (PA0xx: the file does not parse or
    decode) is kept for any changed file: the change may be its cause wherever it points."""
    kept = []
    for finding in findings:
        path = paths.get(finding.path, Path(finding.path))
        if not changes.touches(path):
            continue
        if finding.code.startswith("PA0") or changes.covers(path, finding.line, finding.end_line):
            kept.append(finding)
    return kept

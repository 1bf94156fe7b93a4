"""Which flagged files the model sees: the most serious first, at most `llm.max-files`; never a
file that does not parse (PA001), which the rules could not read either."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pyarch_lint.findings import Finding, NotReviewed, Severity


@dataclass(frozen=True, slots=True)
class FlaggedFile:
    """A file with at least one finding at or above the threshold, and all its findings."""

    path: str
    findings: tuple[Finding, ...]

    @property
    def worst(self) -> Severity:
        return max(f.severity for f in self.findings)


@dataclass(frozen=True, slots=True)
class Selection:
    chosen: tuple[FlaggedFile, ...]  # in order of seriousness
    skipped: tuple[NotReviewed, ...]  # unparsable, or past max-files


def select_files(findings: Sequence[Finding], threshold: Severity, max_files: int) -> Selection:
    """Flagged files ranked by worst severity, then number of findings (path breaks ties, so
    the choice is the same on every run); those past `max_files` are not reviewed."""
    by_path: defaultdict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    flagged = [
        FlaggedFile(path, tuple(sorted(group)))
        for path, group in by_path.items()
        if any(f.severity >= threshold for f in group)
    ]
    flagged.sort(key=lambda f: (-f.worst, -len(f.findings), f.path))
    unparsed = [f for f in flagged if any(finding.code == _SYNTAX_ERROR for finding in f.findings)]
    parsed = [f for f in flagged if f not in unparsed]
    no_parse = "syntax error: the file does not parse (PA001); it is not sent"
    reason = f"max-files: more than llm.max-files = {max_files} flagged files; less serious"
    return Selection(
        chosen=tuple(parsed[:max_files]),
        skipped=(
            *(NotReviewed(f.path, no_parse) for f in unparsed),
            *(NotReviewed(f.path, reason) for f in parsed[max_files:]),
        ),
    )


_SYNTAX_ERROR = "PA001"
